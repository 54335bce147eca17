"""The integration hub.

``registry`` lists the providers; ``services`` creates and changes integrations;
``connectors`` speak each provider's API; ``routes`` is the ``/integrations`` admin
page and ``api`` its JSON twin under ``/api/integrations``. The rest is grouped by
concern, each group's ``__init__`` saying what it owns and handing on what others
use: ``sync``, ``provider_webhooks``, ``endpoints``, ``oauth``, ``work_orders`` and
``payments``. Jobs are named through their group (``app.integrations.sync.run_sync``).
"""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.integrations.routes:bp",
        "app.integrations.api:bp",
        "app.integrations.endpoints.routes:bp",
        "app.integrations.endpoints.api:bp",
        "app.integrations.sync.routes:bp",
        # Last of all: /api/v1/webhooks/<provider> must not shadow fixed paths.
        "app.integrations.provider_webhooks.routes:bp",
    ),
    webhook_processors={
        provider: "app.integrations.provider_webhooks.routing:process_event"
        # The providers whose registry entry declares a webhook (tests hold the two equal).
        for provider in (
            "stripe",
            "hubspot",
            "quickbooks",
            "xero",
            "square",
            "pipedrive",
            "zoho_crm",
            "freshbooks",
        )
    }
    # Salesforce signs nothing: its outbound messages are known by the organization ID.
    | {"salesforce": "app.integrations.provider_webhooks.salesforce_routing:process_notification"}
    # ROVIDA announces work orders; they become orders, not only platform events.
    | {"rovida": "app.integrations.provider_webhooks.work_order_notices:process_event"},
    status_hooks=(
        # job.* platform events for subscribed webhook endpoints.
        StatusHook("app.integrations.endpoints.events:on_status_change", HookPhase.FOLLOW),
        # A completed job becomes an invoice in the accounting integrations.
        StatusHook("app.integrations.payments.accounting:on_status_change", HookPhase.INVOICE),
        # A completed job closes its ROVIDA/Yardi work order, with the photos.
        StatusHook("app.integrations.work_orders.closing:on_status_change", HookPhase.FOLLOW),
    ),
    periodic_jobs=(
        # Starts the hourly/daily/weekly integration syncs that are due (run on "bulk").
        PeriodicJob(
            "integration-syncs", "app.integrations.sync.run_scheduled_syncs", every_seconds=300
        ),
        PeriodicJob(
            "integration-health",
            "app.integrations.health.scheduled_health_checks",
            every_seconds=300,
        ),
        # Syncs whose worker died mid-run continue from their last committed batch.
        PeriodicJob(
            "integration-sync-resume",
            "app.integrations.sync.resume_stalled_syncs",
            every_seconds=60,
        ),
        PeriodicJob("api-usage-flush", "app.integrations.usage.flush_usage", every_seconds=15),
        # Looks 15 minutes ahead, so tokens are renewed before a sync needs them.
        PeriodicJob(
            "integration-token-refresh",
            "app.integrations.oauth.refresh_expiring_tokens",
            every_seconds=300,
        ),
    ),
    init_app="app.integrations.usage:init_usage_logging",
)
