"""A stored Salesforce notification → a platform event, and a Contact → our contact.

Each notification is stored by :mod:`app.integrations.provider_webhooks.salesforce_outbound` as
JSON (organisation, action, object type and the fields the outbound message
was set up with). An outbound message says nothing of why it was sent, only
how the record is now, so the event is read from the record:

- ``Contact`` and ``Account``: ``customer.created`` when ``CreatedDate`` equals
  ``LastModifiedDate`` (both must be in the message), else ``customer.updated``.
- ``Opportunity`` (cross-referrals are opportunities):
  ``referral.converted`` once won, ``referral.lost`` once closed otherwise,
  ``referral.captured`` while open (``IsWon``/``IsClosed``, else ``StageName``).
- Any other object (Lead, Case, custom ``__c``) is stored and processed with
  no platform event: the catalogue has no name for it.

A ``Contact`` also updates the contact synced from it, through the inbound
sync's own upsert and the integration's contact mappings, when the
integration syncs inwards. The message carries the record, so no pull is
started (the signed providers' events start one for real-time integrations).
"""

from __future__ import annotations

import json
import logging

from app.integrations.endpoints import emit_event
from app.integrations.provider_webhooks.receiving import integration_of
from app.integrations.sync import (
    MappingError,
    apply_remote_contact,
    build_inbound,
    mappings_for,
    sync_record,
)
from app.platform.models import InboundWebhookEvent, Integration
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

CUSTOMER_OBJECTS = ("Contact", "Account")
INBOUND_DIRECTIONS = ("one_way_in", "two_way")
CONTACTS = "contacts"


def process_notification(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry for ``salesforce``: one stored notification, in the job's transaction."""
    integration = integration_of(event)
    try:
        body = json.loads(event.raw_body)
    except ValueError as exc:
        raise UnprocessableEvent(f"stored body is not JSON: {exc}") from exc
    routed = route_salesforce(body)
    if routed is None:
        log.info("Salesforce %s notification %s is not routed", event.event_type, event.id)
        return
    name, data = routed
    emit_event(name, data, source="salesforce", integration=integration, inbound_event=event)
    if body.get("object_type") == "Contact":
        apply_salesforce_contact(integration, body)


def route_salesforce(body: dict):
    """``(platform event name, its data)``, or None for an object with no event."""
    object_type = str(body.get("object_type") or "")
    fields = body.get("fields") or {}
    name = _event_name(object_type, fields)
    if name is None:
        return None
    data = {
        "provider": "salesforce",
        "provider_event_id": str(body.get("notification_id") or ""),
        "provider_event_type": object_type,
        "object_type": object_type.lower(),
        "object_id": fields.get("Id"),
        "organization_id": body.get("organization_id"),
        "action_id": body.get("action_id"),
        "object": fields,
    }
    return name, data


def _event_name(object_type: str, fields: dict) -> str | None:
    if object_type in CUSTOMER_OBJECTS:
        created, modified = fields.get("CreatedDate"), fields.get("LastModifiedDate")
        return "customer.created" if created and created == modified else "customer.updated"
    if object_type == "Opportunity":
        stage = str(fields.get("StageName") or "").lower()
        won = _flag(fields["IsWon"]) if fields.get("IsWon") else stage == "closed won"
        closed = _flag(fields["IsClosed"]) if fields.get("IsClosed") else stage.startswith("closed")
        if won:
            return "referral.converted"
        return "referral.lost" if closed else "referral.captured"
    return None


def _flag(value) -> bool:
    return str(value).strip().lower() == "true"  # xsd:boolean as Salesforce writes it


def apply_salesforce_contact(integration: Integration, notification: dict) -> None:
    """Upsert the contact a ``Contact`` notification describes (no commit).

    A record the mappings cannot read is kept as failed under ``remote:<id>``,
    as the paged pull keeps it; the platform event stands either way.
    """
    if integration.sync_direction not in INBOUND_DIRECTIONS:
        return
    fields = notification.get("fields") or {}
    remote_id = str(fields.get("Id") or "").strip()
    if not remote_id:
        log.info("Salesforce contact notification without Id: nothing to update")
        return
    left_out: dict[str, str] = {}
    try:
        values = build_inbound(mappings_for(integration, CONTACTS), fields, left_out)
    except MappingError as exc:
        state = sync_record(integration, CONTACTS, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
        state.status = "failed"
        state.last_error = str(exc)[:2000]
        return
    apply_remote_contact(integration, CONTACTS, remote_id, values, left_out=left_out)
