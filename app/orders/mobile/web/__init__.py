"""The mobile feature's handlers: each module one blueprint."""
