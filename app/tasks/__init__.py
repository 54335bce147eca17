"""Internal tasks (``internal_task`` threads): the board, reminders and API."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.tasks.routes:bp", "app.tasks.api:bp"),
    periodic_jobs=(
        PeriodicJob("task-reminders", "app.tasks.jobs.send_due_reminders", every_seconds=30),
    ),
)
