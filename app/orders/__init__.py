"""Orders: the status engine and the order API."""
