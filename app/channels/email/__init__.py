"""Transactional e-mail through SendGrid v3 and its signed event webhook."""

from app.platform.features import Feature, TransportSpec
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.channels.email.routes:bp",),
    webhook_processors={"sendgrid": "app.channels.email.events:process_event"},
    periodic_jobs=(
        PeriodicJob(
            "visit-reminders",
            "app.channels.email.reminders.send_visit_reminders",
            every_seconds=3600,
        ),
    ),
    transports=(
        TransportSpec(
            "sendgrid",
            requires=("SENDGRID_API_KEY", "MAIL_FROM"),
            real="app.channels.email.transport:SendGridTransport",
            label="SendGrid e-mail",
            recipient="email",
            shape="app.channels.email.transport:plain_mail",
        ),
    ),
)
