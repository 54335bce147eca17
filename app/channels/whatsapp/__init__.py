"""WhatsApp Business Cloud API: webhook, inbound processing, outbound transport, media."""
