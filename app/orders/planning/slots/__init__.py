"""The best slots for one order while the customer is on the line, and planning one
with a click: on the order page and in the conversation's customer panel."""
