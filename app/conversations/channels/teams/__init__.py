"""Microsoft Teams alerts as Adaptive Cards posted to Workflows webhooks."""

from app.platform.features import Feature, TransportSpec

FEATURE = Feature(
    transports=(
        TransportSpec(
            "teams",
            requires=("TEAMS_WEBHOOK_URLS",),
            real="app.conversations.channels.teams.transport:TeamsTransport",
            label="Microsoft Teams",
            recipient="team",
            shape="app.conversations.channels.teams.transport:plain_card",
        ),
    ),
)
