"""WhatsApp Business Cloud API: webhook, inbound processing, outbound transport, media."""

from app.platform.features import Feature, TransportSpec

FEATURE = Feature(
    blueprints=("app.channels.whatsapp.routes:bp",),
    webhook_processors={"whatsapp": "app.channels.whatsapp.inbound:process_event"},
    listeners=("app.channels.whatsapp.listeners",),
    transports=(
        TransportSpec(
            "whatsapp",
            requires=("WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN"),
            real="app.channels.whatsapp.transport:WhatsAppTransport",
            label="WhatsApp Business",
            recipient="phone",
            channel_type="whatsapp_business",
        ),
    ),
)
