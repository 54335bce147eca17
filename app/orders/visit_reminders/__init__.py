"""The customer's reminder the day before a visit, and their answer to it.

The reminder goes on the customer's channel (WhatsApp with "Bevestigen" and
"Verzetten" buttons, else e-mail) at ``VISIT_REMINDER_TIME``; a tap on a
button confirms the visit or asks to move it; a WhatsApp reminder still
unanswered at ``VISIT_CONFIRM_BY`` becomes a task for the desk.
"""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    listeners=("app.orders.visit_reminders.listeners",),
    init_app="app.orders.visit_reminders.settings:init_app",
    periodic_jobs=(
        # Every quarter of an hour, so the reminders go soon after the set time.
        PeriodicJob(
            "visit-reminders",
            "app.orders.visit_reminders.sending.remind_visits",
            every_seconds=900,
        ),
    ),
)
