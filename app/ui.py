"""What every page's layout needs: navigation by role and display labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.enums import Role

ALL = tuple(Role)
DESK = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class NavItem:
    label: str  # lazy: read in the reader's language
    endpoint: str
    roles: tuple[Role, ...]


# Only pages that exist are listed; later features add theirs here.
NAVIGATION = (
    NavItem(_l("Inbox"), "inbox.index", DESK),
    NavItem(_l("Tasks"), "tasks.board", DESK),
    NavItem(_l("Order e-mails"), "email_intake.queue", DESK),
    NavItem(_l("My day"), "mobile.today", (Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)),
    NavItem(_l("Analytics"), "analytics.index", (Role.MANAGER, Role.ADMIN)),
    NavItem(_l("Templates"), "message_templates.index", (Role.ADMIN,)),
    NavItem(_l("Channels"), "channels_admin.index", (Role.ADMIN,)),
    NavItem(_l("Assignment"), "assignment_admin.index", (Role.ADMIN,)),
    NavItem(_l("Service levels"), "sla_admin.index", (Role.ADMIN,)),
    NavItem(_l("Partners"), "partners.index", (Role.ADMIN,)),
    NavItem(_l("Integrations"), "integrations.index", (Role.ADMIN,)),
    NavItem(_l("Forms"), "intake_forms.index", (Role.ADMIN,)),
    NavItem(_l("Events"), "webhook_events.index", (Role.ADMIN,)),
    NavItem(_l("Users"), "admin.users", (Role.ADMIN,)),
    NavItem(_l("Audit log"), "admin.audit", (Role.ADMIN,)),
    NavItem(_l("Privacy"), "gdpr.search", (Role.ADMIN,)),
)

ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.TECHNICIAN: _l("Technician"),
    Role.TEAM_LEAD: _l("Team lead"),
    Role.MANAGER: _l("Manager"),
    Role.ADMIN: _l("Admin"),
}

CHANNEL_LABELS = {
    "email_outlook": "Email",
    "whatsapp_business": "WhatsApp",
    "sms": "SMS",
    "internal_comment": "Note",
    "internal_task": "Task",
    "internal_ticket": "Ticket",
    "phone_call": "Phone",
}


# Staff work in the Netherlands: show times there, whatever the server's zone.
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")


def local_time(value: datetime | None, fmt: str = "%d %b %H:%M") -> str:
    """Format a UTC timestamp in Amsterdam time for display."""
    if value is None:
        return ""
    return value.astimezone(DISPLAY_ZONE).strftime(fmt)


# Ticks on outbound messages: (symbol, words for screen readers and the title).
DELIVERY_TICKS = {
    "pending": ("\u25f7", "Sending"),
    "sent": ("\u2713", "Sent"),
    "delivered": ("\u2713\u2713", "Delivered"),
    "read": ("\u2713\u2713", "Read"),
    "failed": ("\u2715", "Failed"),
    "bounced": ("\u2715", "Bounced"),
}


def navigation_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAVIGATION if user.role in item.roles]


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")

    @app.context_processor
    def layout_context():
        return {
            "nav_items": navigation_for(current_user),
            "active_endpoint": request.endpoint,
            "role_labels": ROLE_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "delivery_ticks": DELIVERY_TICKS,
            "url_endpoints": current_app.view_functions,
        }


def no_store(response):
    """Mark a page that shows a fresh key or secret as never to be cached."""
    response.headers["Cache-Control"] = "no-store"
    return response
