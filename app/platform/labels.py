"""How enum values are shown to people: one translated label per value.

Templates write ``{{ thread.status | label("status") }}``. Thread statuses,
priorities and thread types reuse the system-text catalogue (the same words as
the timeline's lines); the other kinds are listed here. A value without a label
is shown as it is stored, underscores as spaces, so a new enum value never
breaks a page.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from app.platform.system_texts import CATALOGUE, SystemText

LABELS: dict[str, dict[str, Any]] = {
    # Orders as staff and technicians see them (customers get ``order_status.*``).
    # The intake's installation preferences (Order.installation_preferences keys).
    "installation_preference": {
        "preferred_date": _l("Preferred date"),
        "preferred_dates": _l("Preferred dates"),
        "time_window": _l("Time window"),
        "time_preference": _l("Time of day"),
        "preference": _l("Preference"),
        "access_notes": _l("Access"),
        "phase": _l("Connection"),
        "notes": _l("Remarks"),
        "remarks": _l("Remarks"),
        "other_answers": _l("Other answers"),
    },
    # The customer's time of day (installation_preferences.time_preference, partner API).
    # Why an order needs a visit after its first (app.platform.models.planning).
    "visit_purpose": {
        "second_day": _l("second day"),
        "missing_part": _l("return: a part was missing"),
        "meter_box": _l("after the grid operator's meter-box change"),
    },
    "time_preference": {
        "morning": _l("morning"),
        "afternoon": _l("afternoon"),
        "evening": _l("evening"),
        "any": _l("any time"),
    },
    "order_type": {
        "installation": _l("installation"),
        "service": _l("service visit"),
        "inspection": _l("inspection"),
        "repair": _l("repair"),
    },
    # What the order page lists under "Partner references" (Order.partner_external_references).
    "partner_reference": {
        "partner_order_id": _l("Partner's order id"),
        "partner_customer_id": _l("Partner's customer id"),
        "dealer_group_id": _l("Dealer group"),
        "purchase_order_number": _l("Purchase order"),
        "purchase_order": _l("Purchase order"),
        "customer_account": _l("Customer account"),
        "partner_system": _l("Partner's system"),
        "api_version": _l("API version"),
        "created_via_api": _l("Created through the API"),
    },
    # Outgoing deliveries (the order page's callbacks table).
    "delivery_kind": {
        "partner_callback": _l("partner callback"),
        "make_scenario": _l("Make.com scenario"),
        "webhook_endpoint": _l("webhook"),
        "teams_alert": _l("Teams alert"),
    },
    "delivery_state": {
        "pending": _l("waiting"),
        "in_progress": _l("sending"),
        "delivered": _l("delivered"),
        "failed": _l("failed"),
        "cancelled": _l("cancelled"),
    },
    "order": {
        "new": _l("new"),
        "quote_sent": _l("quote sent"),
        "approved": _l("approved"),
        "scheduled": _l("scheduled"),
        "in_progress": _l("in progress"),
        "completed": _l("completed"),
        "on_hold": _l("on hold"),
        "cancelled": _l("cancelled"),
    },
    "task_status": {
        "open": _l("open"),
        "in_progress": _l("in progress"),
        "waiting": _l("waiting"),
        "completed": _l("completed"),
        "cancelled": _l("cancelled"),
    },
    "task_type": {
        "follow_up": _l("follow up"),
        "callback": _l("callback"),
        "send_email": _l("send e-mail"),
        "schedule_visit": _l("schedule visit"),
        "escalate": _l("escalate"),
        "research": _l("research"),
        "documentation": _l("documentation"),
        "approval_request": _l("approval request"),
        "other": _l("other"),
    },
    "order_source": {
        "partner_api": _l("partner API"),
        "fillout": "Fillout",
        "make": "Make",
        "email": _l("e-mail"),
        "manual": _l("manual"),
        "integration": _l("integration"),
    },
    "address_validation": {
        "unvalidated": _l("unvalidated"),
        "valid": _l("valid"),
        "invalid": _l("invalid"),
        "needs_review": _l("needs review"),
    },
    "commission": {
        "pending": _l("pending"),
        "approved": _l("approved"),
        "paid": _l("paid"),
        "cancelled": _l("cancelled"),
    },
    # Our own invoice of an order, and its refunds as Stripe words them.
    "invoice": {
        "open": _l("open"),
        "partly_paid": _l("partly paid"),
        # Not "paid": that msgid is a commission's "paid out".
        "paid": _l("paid in full"),
        "partly_refunded": _l("partly refunded"),
        "refunded": _l("refunded in full"),
    },
    # How a payment came in: the providers recording one by their own names (Make
    # scenarios send their own words, shown as they are).
    "payment_method": {"stripe": "Stripe", "quickbooks": "QuickBooks"},
    "refund_status": {
        "pending": _l("being refunded"),
        "requires_action": _l("waiting for the customer"),
        "succeeded": _l("refunded"),
        "failed": _l("failed"),
        "canceled": _l("cancelled"),
    },
    # Logged phone calls.
    "call_outcome": {
        "reached": _l("reached"),
        "no_answer": _l("not answered"),
        "voicemail": _l("voicemail"),
        "wrong_number": _l("wrong number"),
        "callback_requested": _l("call back requested"),
    },
    "webhook_state": {
        "received": _l("received"),
        "processing": _l("processing"),
        "processed": _l("processed"),
        "failed": _l("failed"),
        "ignored": _l("ignored"),
    },
    "integration_status": {
        "pending": _l("not connected yet"),
        "active": _l("active"),
        "inactive": _l("inactive"),
        "error": _l("error"),
    },
    "sync_frequency": {
        "real_time": _l("Real time (webhooks)"),
        "every_15_minutes": _l("Every 15 minutes"),
        "hourly": _l("Hourly"),
        "daily": _l("Daily"),
    },
    "sync_status": {
        "pending": _l("pending"),
        "running": _l("running"),
        "completed": _l("completed"),
        "completed_with_errors": _l("completed with errors"),
        "failed": _l("failed"),
        "cancelled": _l("cancelled"),
    },
    # What a sandbox transport recorded instead of sending (the channels page's outbox).
    "sandbox_status": {"sent": _l("sent"), "delivered": _l("delivered"), "failed": _l("failed")},
    # Health checks and webhook endpoints.
    "check_state": {"ok": _l("ok"), "failed": _l("failed"), "unknown": _l("unknown")},
    "endpoint_state": {"active": _l("active"), "disabled": _l("disabled"), "paused": _l("paused")},
    # A background worker's state as RQ reports it (/admin/queues).
    "worker_state": {
        "idle": _lp("worker", "idle"),
        "busy": _lp("worker", "busy"),
        "started": _lp("worker", "starting"),
        "suspended": _lp("worker", "suspended"),
    },
    "template_category": {
        "customer_service": _l("customer service"),
        "installation_scheduling": _l("installation scheduling"),
        "technical_support": _l("technical support"),
        "sales_inquiry": _l("sales inquiry"),
        "complaint_response": _l("complaint response"),
        "follow_up": _l("follow up"),
        "auto_response": _l("auto response"),
        "internal_notification": _l("internal notification"),
    },
}


def label(value: Any, kind: str) -> str:
    """``value`` (an enum member or its stored string) as a label of ``kind``."""
    raw = str(getattr(value, "value", value))
    known = LABELS.get(kind, {}).get(raw)
    if known is not None:
        return str(known)
    if f"{kind}.{raw}" in CATALOGUE:
        return SystemText(f"{kind}.{raw}").render()
    return raw.replace("_", " ")
