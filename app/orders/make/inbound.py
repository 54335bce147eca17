"""Processing a stored Make.com event in the webhook job, one handler per scenario.

Handlers work in the job's transaction and never commit. A reference that
cannot be resolved (no such order or partner) raises
:class:`UnprocessableEvent`: the event is kept as failed, with the reason, on
the admin events page, and can be re-run once the data is there.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from app.orders.make import feedback, orders, payments
from app.orders.make.schemas import SCENARIOS, InvalidScenarioBody, Scenario, validate_scenario
from app.platform.models import InboundWebhookEvent
from app.platform.webhooks.processing import UnprocessableEvent

HANDLERS: dict[str, Callable[[Scenario, InboundWebhookEvent], object]] = {
    "order-created": orders.order_created,
    "visit-completed": orders.visit_completed,
    "payment-received": payments.payment_received,
    "customer-feedback": feedback.customer_feedback,
}


def process_event(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry for source ``make``."""
    scenario = event.event_type or ""
    handler = HANDLERS.get(scenario)
    if handler is None or scenario not in SCENARIOS:
        raise UnprocessableEvent(f"unknown Make scenario {scenario!r}")
    try:
        body = validate_scenario(scenario, json.loads(event.raw_body))
    except (ValueError, InvalidScenarioBody) as exc:
        raise UnprocessableEvent(f"not a valid {scenario} body: {exc}") from exc
    handler(body, event)
