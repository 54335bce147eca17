"""The fillout feature's handlers: each module one blueprint."""
