"""The portal feature's handlers: each module one blueprint."""
