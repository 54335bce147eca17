"""Internal tasks (``internal_task`` threads): the board, reminders and API."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.conversations.tasks.routes:bp", "app.conversations.tasks.api:bp"),
    periodic_jobs=(
        PeriodicJob(
            "task-reminders", "app.conversations.tasks.jobs.send_due_reminders", every_seconds=30
        ),
    ),
)
