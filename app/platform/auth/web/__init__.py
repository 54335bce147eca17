"""The auth feature's handlers: each module one blueprint."""
