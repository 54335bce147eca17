"""The partners feature's handlers: each module one blueprint."""
