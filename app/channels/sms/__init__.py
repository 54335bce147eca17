"""SMS through a Twilio-compatible API."""
