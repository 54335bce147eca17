"""The platform every context stands on.

Configuration and secrets, the database, its tables (``models``) and transactions,
domain events after commit, jobs and the worker's machinery, live updates, sign-in,
access rules and the audit log, the JSON API's plumbing, texts, labels and formats in
the reader's language. Nothing here imports a context (conversations, orders,
integrations): they import it.
"""
