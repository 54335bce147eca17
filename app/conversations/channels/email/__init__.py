"""Transactional e-mail through SendGrid v3 and its signed event webhook."""

from app.platform.features import Feature, TransportSpec

FEATURE = Feature(
    blueprints=("app.conversations.channels.email.routes:bp",),
    webhook_processors={"sendgrid": "app.conversations.channels.email.events:process_event"},
    # The visit reminders are sent by the order context's job
    # (app.orders.visit_reminders), which picks each customer's channel.
    transports=(
        TransportSpec(
            "sendgrid",
            requires=("SENDGRID_API_KEY", "MAIL_FROM"),
            real="app.conversations.channels.email.transport:SendGridTransport",
            label="SendGrid e-mail",
            recipient="email",
            shape="app.conversations.channels.email.transport:plain_mail",
        ),
    ),
)
