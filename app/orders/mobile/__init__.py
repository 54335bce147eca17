"""The technician's phone view."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.orders.mobile.web.routes:bp", "app.orders.mobile.web.offline:bp"),
    listeners=("app.orders.mobile.listeners",),
    init_app="app.orders.mobile.web.offline:init_app",
    periodic_jobs=(
        # Status taps whose undo window closed and whose own job was lost (Redis
        # restarted, the web process died after the commit) go through all the same.
        PeriodicJob(
            "mobile-held-taps", "app.orders.mobile.pending.apply_due_moves", every_seconds=15
        ),
        PeriodicJob(
            "forget-old-phone-actions",
            "app.orders.mobile.replay.forget_old_actions",
            every_seconds=3600,
        ),
    ),
)
