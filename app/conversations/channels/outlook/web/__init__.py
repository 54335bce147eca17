"""The outlook feature's handlers: each module one blueprint."""
