"""Calendars: planned visits in technicians' Outlook calendars and private iCalendar feeds;
meetings agents book with customers in Outlook as follow-up tasks."""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.calendar_sync.routes:bp",),
    listeners=("app.calendar_sync.listeners",),
    status_hooks=(StatusHook("app.calendar_sync.status:on_status_change", HookPhase.FOLLOW),),
    webhook_processors={"outlook_calendar": "app.calendar_sync.follow_ups:process_event"},
    periodic_jobs=(
        PeriodicJob(
            "calendar-reconcile",
            "app.calendar_sync.jobs.reconcile_calendars",
            every_seconds=10 * 60,
        ),
        PeriodicJob(
            "calendar-subscriptions",
            "app.calendar_sync.subscriptions.renew_calendar_subscriptions",
            every_seconds=15 * 60,
        ),
    ),
    init_app="app.calendar_sync.follow_ups:init_app",
)
