"""SMS through a Twilio-compatible API."""

from app.platform.features import Feature, TransportSpec

FEATURE = Feature(
    blueprints=("app.conversations.channels.sms.routes:bp",),
    webhook_processors={"sms": "app.conversations.channels.sms.inbound:process_event"},
    transports=(
        TransportSpec(
            "sms",
            requires=("SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN", "SMS_FROM"),
            real="app.conversations.channels.sms.transport:SmsTransport",
            label="SMS",
            recipient="phone",
            channel_type="sms",
        ),
    ),
)
