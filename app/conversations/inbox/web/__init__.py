"""The inbox feature's handlers: each module one blueprint."""
