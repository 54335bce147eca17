"""Outlook through Microsoft Graph: subscriptions, notifications, delta sync, replies."""

from app.platform.features import Feature, TransportSpec
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.channels.outlook.routes:bp",
        "app.channels.outlook.admin:bp",
        "app.channels.outlook.sandbox_mail:bp",
    ),
    webhook_processors={
        "outlook": "app.channels.outlook.inbound:process_event",
        "outlook_sandbox": "app.channels.outlook.sandbox_mail:process_event",
    },
    periodic_jobs=(
        PeriodicJob(
            "outlook-subscriptions",
            "app.channels.outlook.subscriptions.renew_subscriptions",
            every_seconds=15 * 60,
        ),
        PeriodicJob("outlook-delta", "app.channels.outlook.delta.poll_delta", every_seconds=5 * 60),
    ),
    transports=(
        TransportSpec(
            "graph",
            requires=("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_MAILBOX"),
            real="app.channels.outlook.transport:GraphTransport",
            label="Outlook (Microsoft Graph)",
            recipient="email",
            channel_type="email_outlook",
        ),
    ),
)
