"""The technician's phone view."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.mobile.routes:bp", "app.mobile.offline:bp"),
    listeners=("app.mobile.listeners",),
    init_app="app.mobile.offline:init_app",
    periodic_jobs=(
        # Status taps whose undo window closed and whose own job was lost (Redis
        # restarted, the web process died after the commit) go through all the same.
        PeriodicJob("mobile-held-taps", "app.mobile.pending.apply_due_moves", every_seconds=15),
        PeriodicJob(
            "forget-old-phone-actions",
            "app.mobile.replay.forget_old_actions",
            every_seconds=3600,
        ),
    ),
)
