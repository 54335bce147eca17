"""Background work on RQ: queue declarations, enqueueing, and the workers."""
