"""Calendars: planned visits in technicians' Outlook calendars and private iCalendar feeds;
meetings agents book with customers in Outlook as follow-up tasks."""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.orders.calendar_sync.routes:bp",),
    listeners=("app.orders.calendar_sync.listeners",),
    status_hooks=(
        StatusHook("app.orders.calendar_sync.status:on_status_change", HookPhase.FOLLOW),
    ),
    webhook_processors={"outlook_calendar": "app.orders.calendar_sync.follow_ups:process_event"},
    periodic_jobs=(
        PeriodicJob(
            "calendar-reconcile",
            "app.orders.calendar_sync.jobs.reconcile_calendars",
            every_seconds=10 * 60,
        ),
        PeriodicJob(
            "calendar-subscriptions",
            "app.orders.calendar_sync.subscriptions.renew_calendar_subscriptions",
            every_seconds=15 * 60,
        ),
    ),
    init_app="app.orders.calendar_sync.follow_ups:init_app",
)
