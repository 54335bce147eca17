"""Outlook through Microsoft Graph: subscriptions, notifications, delta sync, replies."""

from app.platform.features import Feature, TransportSpec
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.conversations.channels.outlook.web.routes:bp",
        "app.conversations.channels.outlook.web.mailboxes:bp",
        "app.conversations.channels.outlook.web.sandbox_mail:bp",
    ),
    webhook_processors={
        "outlook": "app.conversations.channels.outlook.inbound:process_event",
        "outlook_sandbox": "app.conversations.channels.outlook.web.sandbox_mail:process_event",
    },
    periodic_jobs=(
        PeriodicJob(
            "outlook-subscriptions",
            "app.conversations.channels.outlook.subscriptions.renew_subscriptions",
            every_seconds=15 * 60,
        ),
        PeriodicJob(
            "outlook-delta",
            "app.conversations.channels.outlook.delta.poll_delta",
            every_seconds=5 * 60,
        ),
    ),
    transports=(
        TransportSpec(
            "graph",
            requires=("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_MAILBOX"),
            real="app.conversations.channels.outlook.transport:GraphTransport",
            label="Outlook (Microsoft Graph)",
            recipient="email",
            channel_type="email_outlook",
        ),
    ),
)
