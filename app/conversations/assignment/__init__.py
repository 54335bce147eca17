"""Auto-assignment: routing new conversations to a team and a person, and escalating.

- :mod:`app.conversations.assignment.rules` reads and validates a channel's
  ``auto_assignment_rules``;
- :mod:`app.conversations.assignment.services` picks a team and an agent for a thread;
- :mod:`app.conversations.assignment.rotation` keeps the round-robin in Redis, shared by
  every web and worker process;
- :mod:`app.conversations.assignment.escalation` moves threads left unanswered too long;
- :mod:`app.conversations.assignment.routes` is the admin page that edits the rules;
- :mod:`app.conversations.assignment.suggestions` suggests a team from our own history and
  can route by it.
"""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.conversations.assignment.routes:bp",
        "app.conversations.assignment.suggestions.routes:bp",
    ),
    listeners=(
        "app.conversations.assignment.listeners",
        "app.conversations.assignment.suggestions.listeners",
    ),
    periodic_jobs=(
        PeriodicJob(
            "assignment-escalation",
            "app.conversations.assignment.escalation.escalate_unanswered_threads",
            every_seconds=60,
        ),
        # Retrained on the conversations closed since; two workers never train at once.
        PeriodicJob(
            "team-suggestions-training",
            "app.conversations.assignment.suggestions.training.retrain_routing_model",
            every_seconds=6 * 3600,
            queue="bulk",
        ),
        # Suggestions of conversations closed without anyone acting on them: ignored.
        PeriodicJob(
            "team-suggestions-outcomes",
            "app.conversations.assignment.suggestions.outcomes.settle_closed_conversations",
            every_seconds=600,
        ),
    ),
)
