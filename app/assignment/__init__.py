"""Auto-assignment: routing new conversations to a team and a person, and escalating.

- :mod:`app.assignment.rules` reads and validates a channel's
  ``auto_assignment_rules``;
- :mod:`app.assignment.services` picks a team and an agent for a thread;
- :mod:`app.assignment.rotation` keeps the round-robin in Redis, shared by
  every web and worker process;
- :mod:`app.assignment.escalation` moves threads left unanswered too long;
- :mod:`app.assignment.routes` is the admin page that edits the rules;
- :mod:`app.assignment.suggestions` suggests a team from our own history and
  can route by it.
"""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.assignment.routes:bp", "app.assignment.suggestions.routes:bp"),
    listeners=("app.assignment.listeners", "app.assignment.suggestions.listeners"),
    periodic_jobs=(
        PeriodicJob(
            "assignment-escalation",
            "app.assignment.escalation.escalate_unanswered_threads",
            every_seconds=60,
        ),
        # Retrained on the conversations closed since; two workers never train at once.
        PeriodicJob(
            "team-suggestions-training",
            "app.assignment.suggestions.training.retrain_routing_model",
            every_seconds=6 * 3600,
            queue="bulk",
        ),
        # Suggestions of conversations closed without anyone acting on them: ignored.
        PeriodicJob(
            "team-suggestions-outcomes",
            "app.assignment.suggestions.outcomes.settle_closed_conversations",
            every_seconds=600,
        ),
    ),
)
