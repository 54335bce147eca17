"""Manager analytics (``/analytics``) and the agents' daily digest e-mail."""

from app.features import Feature
from app.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.analytics.routes:bp",),
    periodic_jobs=(
        # Cheap outside its 07:30 window; inside, only the first run of the day sends.
        PeriodicJob("daily-digest", "app.analytics.digest.send_daily_digests", every_seconds=300),
    ),
)
