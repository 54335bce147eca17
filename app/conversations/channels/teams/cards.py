"""Which teams hear which alert, and the Adaptive Card each alert becomes.

The platform's triggers (``order_urgent`` → operations + management,
``technician_absent`` → operations, ``system_error`` → tech + management) plus
``sla_escalation`` → management for the SLA engine. A card shows only the facts
its trigger declares: whatever else a caller passes in ``data`` (an e-mail
address, a phone number) never leaves the building.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

TEAMS = ("operations", "management", "tech")
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"  # the newest version Teams renders everywhere, mobile included
MAX_FACT_LENGTH = 300

# Adaptive Card TextBlock colours by the alert's priority.
PRIORITY_COLOURS = {"critical": "Attention", "high": "Warning", "medium": "Accent"}


@dataclass(frozen=True)
class Trigger:
    teams: tuple[str, ...]
    priority: str
    title: str  # lazy: read in the language of the app's default locale
    # (label shown, key in the caller's data), in the order shown.
    facts: tuple[tuple[str, str], ...]
    action_title: str
    # A path under PUBLIC_BASE_URL, formatted with the data; the fallback when a
    # key it needs is missing.
    path: str
    fallback_path: str = "/inbox"


TRIGGERS: dict[str, Trigger] = {
    "order_urgent": Trigger(
        teams=("operations", "management"),
        priority="high",
        title=_l("Urgent order"),
        facts=(
            (_l("Order"), "order_number"),
            (_l("Customer"), "customer_name"),
            (_l("Status"), "status"),
            (_l("Reason"), "reason"),
            (_l("Team"), "assigned_team"),
        ),
        action_title=_l("View order"),
        path="/inbox?q={order_number}",
    ),
    "technician_absent": Trigger(
        teams=("operations",),
        priority="medium",
        title=_l("Technician absent"),
        facts=(
            (_l("Technician"), "technician_name"),
            (_l("Date"), "date"),
            (_l("Reason"), "reason"),
            (_l("Visits affected"), "affected_visits"),
        ),
        action_title=_l("Open the task board"),
        path="/tasks",
    ),
    "system_error": Trigger(
        teams=("tech", "management"),
        priority="critical",
        title=_l("System error"),
        facts=(
            (_l("Component"), "component"),
            (_l("Error"), "error"),
            (_l("Since"), "since"),
            (_l("Failures"), "failure_count"),
        ),
        action_title=_l("Open integrations"),
        path="/admin/channels/",
    ),
    "sla_escalation": Trigger(
        teams=("management",),
        priority="high",
        title=_l("SLA escalation"),
        facts=(
            (_l("Conversation"), "thread_subject"),
            (_l("Channel"), "channel"),
            (_l("Response due"), "response_due_at"),
            (_l("Overdue by"), "overdue_by"),
            (_l("Assigned to"), "assigned_to"),
            (_l("Escalation step"), "stage"),
        ),
        action_title=_l("Open the conversation"),
        path="/threads/{thread_id}",
    ),
    # An outbound partner callback (or Make.com scenario) gave up after its retries.
    "partner_callback_failed": Trigger(
        teams=("operations", "tech"),
        priority="high",
        title=_l("Partner callback failed"),
        facts=(
            (_l("Partner"), "partner_name"),
            (_l("Order"), "order_number"),
            (_l("Event"), "event"),
            (_l("Attempts"), "attempts"),
            (_l("Error"), "error"),
        ),
        action_title=_l("Open the delivery log"),
        path="/partners/{partner_organization_id}/deliveries",
        fallback_path="/partners",
    ),
}


def build_message(trigger_name: str, data: dict, base_url: str) -> dict:
    """The Workflows webhook body: a ``message`` with one Adaptive Card 1.4 attachment."""
    trigger = TRIGGERS[trigger_name]
    facts = [
        {"title": str(label), "value": _text(data[key])}
        for label, key in trigger.facts
        if data.get(key) not in (None, "")
    ]
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": str(trigger.title),
            "weight": "Bolder",
            "size": "Medium",
            "color": PRIORITY_COLOURS.get(trigger.priority, "Default"),
            "wrap": True,
        }
    ]
    if data.get("summary"):
        body.append({"type": "TextBlock", "text": _text(data["summary"]), "wrap": True})
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    link = base_url.rstrip("/") + _path(trigger, data)
    return wrap_card(
        body, [{"type": "Action.OpenUrl", "title": str(trigger.action_title), "url": link}]
    )


def build_test_message(team: str, base_url: str) -> dict:
    """A harmless card for the channels page's "send test" button."""
    body = [
        {"type": "TextBlock", "text": _("Switchboard test"), "weight": "Bolder", "size": "Medium"},
        {"type": "FactSet", "facts": [{"title": _("Team"), "value": team}]},
    ]
    url = base_url.rstrip("/") + "/admin/channels/"
    return wrap_card(body, [{"type": "Action.OpenUrl", "title": _("Open channels"), "url": url}])


def wrap_card(body: list[dict], actions: list[dict]) -> dict:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": CARD_SCHEMA,
                    "type": "AdaptiveCard",
                    "version": CARD_VERSION,
                    "body": body,
                    "actions": actions,
                },
            }
        ],
    }


def _text(value) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_FACT_LENGTH else text[: MAX_FACT_LENGTH - 1] + "…"


def _path(trigger: Trigger, data: dict) -> str:
    """The link's path; only ever a path of ours, so a card cannot point elsewhere."""
    override = data.get("path")
    if isinstance(override, str) and override.startswith("/") and not override.startswith("//"):
        return override
    try:
        values = {key: quote(str(value), safe="") for key, value in data.items()}
        return trigger.path.format(**values)
    except KeyError:
        return trigger.fallback_path
