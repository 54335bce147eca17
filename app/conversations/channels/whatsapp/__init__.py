"""WhatsApp Business Cloud API: webhook, inbound processing, outbound transport, media."""

from app.platform.features import Feature, TransportSpec

FEATURE = Feature(
    blueprints=("app.conversations.channels.whatsapp.routes:bp",),
    webhook_processors={"whatsapp": "app.conversations.channels.whatsapp.inbound:process_event"},
    # Three or so per message we send (sent, delivered, read): applied a batch at a time.
    webhook_folds={
        ("whatsapp", "statuses"): "app.conversations.channels.whatsapp.inbound:apply_statuses"
    },
    listeners=("app.conversations.channels.whatsapp.listeners",),
    transports=(
        TransportSpec(
            "whatsapp",
            requires=("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN"),
            real="app.conversations.channels.whatsapp.transport:WhatsAppTransport",
            label="WhatsApp Business",
            recipient="phone",
            channel_type="whatsapp_business",
        ),
    ),
)
