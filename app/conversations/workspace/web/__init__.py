"""The workspace feature's handlers: each module one blueprint."""
