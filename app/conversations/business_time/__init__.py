"""Business time: opening-hours calendars, SLA policies and each conversation's SLA clock.

Below the features that use it: the conversation's owner keeps the clock
running as messages arrive, the SLA ladder (``app.conversations.sla``) reads it to escalate,
analytics and the out-of-hours answer read the calendars.
"""
