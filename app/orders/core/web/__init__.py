"""The core feature's handlers: each module one blueprint."""
