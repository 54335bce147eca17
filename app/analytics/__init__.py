"""Manager analytics (``/analytics``) and the agents' daily digest e-mail."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.analytics.routes:bp",),
    listeners=("app.analytics.listeners",),
    init_app="app.analytics.commands:init_app",
    periodic_jobs=(
        # Recomputes the roll-ups of days that changed, and yesterday after midnight.
        PeriodicJob("analytics-rollups", "app.analytics.rollups.refresh", every_seconds=60),
        # Cheap outside its 07:30 window; inside, only the first run of the day sends.
        PeriodicJob("daily-digest", "app.analytics.digest.send_daily_digests", every_seconds=300),
    ),
)
