"""Transactional e-mail through SendGrid v3 and its signed event webhook."""

from app.platform.features import Feature, TransportSpec
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.conversations.channels.email.routes:bp",),
    webhook_processors={"sendgrid": "app.conversations.channels.email.events:process_event"},
    periodic_jobs=(
        PeriodicJob(
            "visit-reminders",
            "app.conversations.channels.email.reminders.send_visit_reminders",
            every_seconds=3600,
        ),
    ),
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
