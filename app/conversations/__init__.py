"""Conversations: every message with a customer, and the work of answering it.

Owns the conversation (``core``, its one writer), the channels it travels on, the
inbox and workspace agents answer from, contacts, templates, replies, assignment,
SLA with business time, tasks and notifications. Offers each sub-package's
``__init__``; the order context above it plugs into its pages by name (see
``app.platform.features``), never the other way round.
"""
