"""What WhatsApp accepts in one message, checked before a reply is queued."""

# WhatsApp's limit for a text message body (Cloud API: text.body, 4096 characters).
# A longer reply would be refused by Meta after the agent had moved on.
MAX_TEXT_LENGTH = 4096
