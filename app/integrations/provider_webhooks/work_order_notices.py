"""ROVIDA's work-order notices, in the webhook job: the work order becomes an order.

``POST /api/v1/webhooks/rovida`` is verified and stored once per event id by
:mod:`app.integrations.provider_webhooks.receiving`; this processor then takes the work order
in the notice exactly as the inbound sync does
(:func:`app.integrations.work_orders.take_work_order`), in the job's
transaction. A redelivered notice is a duplicate event and never processed
again; a second notice of the same work order (``work_order.updated``) finds
the order made before by the unique (integration, remote id) key.
"""

from __future__ import annotations

import json
import logging

from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.connectors.property import WorkOrderConnector
from app.integrations.provider_webhooks.receiving import integration_of
from app.integrations.work_orders import take_work_order
from app.platform.models import InboundWebhookEvent
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

TAKEN_EVENTS = ("work_order.created", "work_order.updated")


def process_event(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry for ``rovida``."""
    integration = integration_of(event)
    try:
        body = json.loads(event.raw_body)
        record = body["data"]["work_order"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UnprocessableEvent(f"stored body is not a ROVIDA event: {exc}") from exc
    if body.get("type") not in TAKEN_EVENTS:
        log.info("rovida event %s (%s) is not routed", event.id, event.event_type)
        return
    try:
        connector = connector_for(integration)
        if not isinstance(connector, WorkOrderConnector):
            raise ConnectorError(f"{integration.provider} has no work orders")
        work_order = connector.work_order_of(record)
    except ConnectorError as exc:
        raise UnprocessableEvent(exc.message) from exc
    order, created = take_work_order(integration, work_order)
    log.info(
        "rovida event %s: work order %s → %s",
        event.id,
        work_order.remote_id,
        ("new order " if created else "order ") + order.order_number if order else "not taken",
    )
