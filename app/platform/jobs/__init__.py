"""Background work: the queues and everything a worker process runs.

``queues`` (named queues, enqueueing) and ``broker`` (Redis, or the embedded
stand-in with its worker thread) serve every process. ``worker.py`` runs the rest:
the RQ worker (``worker``), the clock (``periodic``), the inbox consumer
(``consumer``), the batching of follow-up work such as the answers' sends
(``coalescing``) and the turns they take (``turns``). See docs/architecture.md,
*The worker*.
"""
