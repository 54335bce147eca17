"""Calendars: planned visits in technicians' Outlook calendars and private iCalendar feeds."""

from app.features import Feature
from app.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.calendar_sync.routes:bp",),
    listeners=("app.calendar_sync.listeners",),
    status_hooks=("app.calendar_sync.status:on_status_change",),
    periodic_jobs=(
        PeriodicJob(
            "calendar-reconcile",
            "app.calendar_sync.jobs.reconcile_calendars",
            every_seconds=10 * 60,
        ),
    ),
)
