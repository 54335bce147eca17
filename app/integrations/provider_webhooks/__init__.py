"""Provider webhooks in: each call verified and stored once, then routed in the webhook job."""

# Nothing outside this package calls into it: the integration hub's FEATURE names its
# blueprint and webhook processors by dotted path.
