"""A conversation: the thread page, the composer, and sending replies."""
