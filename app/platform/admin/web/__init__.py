"""The admin feature's handlers: each module one blueprint."""
