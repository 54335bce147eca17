"""The inbound partner status webhook: verify, map, move the order.

A partner tells us its order moved (``ON_HOLD``, ``CANCELLED``…). The
request is signed the Standard Webhooks way with the partner's ``whsec_``
secret; the partner's ``partner_to_chargecars`` mapping turns its status into
ours, and the status engine makes the move, its transition rules included.
Only the statuses an admin granted the partner
(:func:`~app.orders.partners.config.granted_statuses`, default ``on_hold``) are the
partner's to report; an update that maps to any other is refused and changes
nothing.

Unlike the other webhooks this one is applied while the partner waits, because
the answer says whether the move was possible (404 unknown order, 422 unmapped
status or one only we set, 409 illegal move). The raw event, the status change,
the audit entry and the event's "processed" mark are one transaction; the same ``webhook-id``
again finds that event and answers with the first result. A rejected update is
kept as a failed event, so an admin can see it and re-run it after fixing the
mapping (:func:`process_event`).
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from app.orders.core.status_engine import IllegalTransition, change_entity_status
from app.orders.deliveries.signing import standard_webhooks_signature
from app.orders.partners.config import partner_status_problem
from app.orders.partners.schemas import PartnerStatusUpdateIn, field_errors
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    InboundWebhookEvent,
    Order,
    Organization,
    PartnerIntegration,
)
from app.platform.models.enums import OrderStatus, OrganizationType, ProcessingState
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.webhooks.freshness import signed_recently, stale_message
from app.platform.webhooks.processing import UnprocessableEvent
from app.platform.webhooks.recording import record_event

log = logging.getLogger(__name__)

SOURCE = "partner_status"
AUDIT_ACTION = "PARTNER_STATUS_UPDATE"


class InvalidSignature(Exception):
    """The request is not provably from the partner (401)."""


class StatusUpdateRejected(Exception):
    """A signed, well-formed update that cannot be applied (404, 409 or 422)."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


class InvalidUpdate(Exception):
    """The body is not a status update (422); ``fields`` names what is wrong."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass
class StatusUpdateResult:
    chargecars_order_id: str
    mapped_status: str
    transition_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chargecars_order_id": self.chargecars_order_id,
            "mapped_status": self.mapped_status,
            "transition_id": self.transition_id,
        }


# --- who is calling, and can they prove it ---------------------------------------


def find_integration(partner_id: str) -> PartnerIntegration | None:
    """The active integration of the partner organization ``partner_id`` (a UUID)."""
    try:
        organization_id = uuid.UUID(str(partner_id))
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(PartnerIntegration)
        .join(Organization, Organization.id == PartnerIntegration.partner_organization_id)
        .where(
            PartnerIntegration.partner_organization_id == organization_id,
            PartnerIntegration.is_active.is_(True),
            Organization.organization_type == OrganizationType.PARTNER,
        )
        .limit(1)
    )


def verify_signature(
    secrets: str | Sequence[str] | None,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: datetime | None = None,
) -> str:
    """Check the Standard Webhooks headers; returns the ``webhook-id``.

    The signature is base64 HMAC-SHA256, keyed with the base64-decoded secret,
    over ``"{id}.{timestamp}.{body}"`` (made as for our own callbacks, see
    :mod:`app.orders.deliveries.signing`); the header may list several (``v1,…``
    separated by spaces) while a partner rotates secrets, and one match is enough.
    ``secrets`` may be several too: during our rotation's overlap
    (:meth:`PartnerIntegration.signing_secrets`) the partner may still sign with
    the old secret or already with the new one.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    secrets = [each for each in (secrets or []) if each]
    if not secrets:
        raise InvalidSignature("No webhook secret is configured for this partner.")
    webhook_id = (headers.get("webhook-id") or "").strip()
    timestamp = (headers.get("webhook-timestamp") or "").strip()
    signatures = (headers.get("webhook-signature") or "").split()
    if not webhook_id or not timestamp or not signatures:
        raise InvalidSignature(
            "webhook-id, webhook-timestamp and webhook-signature headers are required."
        )
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise InvalidSignature("webhook-timestamp must be Unix seconds.") from exc
    if not signed_recently(sent_at, (now or utcnow()).timestamp()):
        raise InvalidSignature(stale_message("webhook-timestamp"))
    for secret in secrets:
        expected = standard_webhooks_signature(secret, webhook_id, sent_at, raw_body).encode()
        for candidate in signatures:
            if hmac.compare_digest(candidate.encode(), expected):
                return webhook_id
    raise InvalidSignature("webhook-signature does not match the body.")


def parse_update(payload: dict) -> PartnerStatusUpdateIn:
    """The update in the body; :class:`InvalidUpdate` naming each bad field."""
    try:
        return PartnerStatusUpdateIn.model_validate(payload)
    except ValidationError as exc:
        raise InvalidUpdate(field_errors(exc)) from exc


# --- applying an update ------------------------------------------------------------


def receive_status_update(
    integration: PartnerIntegration, webhook_id: str, raw_body: bytes, update: PartnerStatusUpdateIn
) -> StatusUpdateResult:
    """Store the event and apply it, once per ``webhook-id`` (no commit).

    Raises :class:`StatusUpdateRejected`; the caller rolls back and may keep
    the rejection with :func:`record_rejection`.
    """
    event, is_new = record_event(
        SOURCE,
        dedupe_key(integration, webhook_id),
        raw_body,
        event_type=f"status:{update.status}"[:120],
        process=False,
    )
    if not is_new:
        # Lock the earlier copy: a retry racing another retry applies once.
        event = db.session.scalar(
            sa.select(InboundWebhookEvent)
            .where(InboundWebhookEvent.id == event.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if event.processing_state == ProcessingState.PROCESSED:
            return previous_result(integration, webhook_id, update)
    result = apply_update(integration, update, webhook_id)
    _mark_processed(event.id)
    return result


def apply_update(
    integration: PartnerIntegration, update: PartnerStatusUpdateIn, webhook_id: str
) -> StatusUpdateResult:
    """Move the partner's order to the mapped status (no commit)."""
    order = db.session.scalar(
        sa.select(Order)
        .where(
            Order.partner_organization_id == integration.partner_organization_id,
            Order.partner_order_id == update.partner_order_id,
        )
        .with_for_update(**LOCK_TO_CHANGE)
    )
    if order is None:
        raise StatusUpdateRejected(
            404,
            "order_not_found",
            f"No order of this partner has partner_order_id {update.partner_order_id!r}.",
            {"partner_order_id": "no such order"},
        )
    target = map_status(integration, update.status)
    context = {
        "partner_source": True,
        "partner_order_id": update.partner_order_id,
        "partner_customer_id": update.partner_customer_id,
        "partner_technician": update.technician_info,
        "original_partner_status": update.status,
        "partner_timestamp": update.timestamp.isoformat() if update.timestamp else None,
        "webhook_id": webhook_id,
    }
    transition = None
    # The partner repeating the status the order already has changes nothing;
    # it is not an error (its system may simply resend its current state).
    if order.status != target:
        try:
            transition = change_entity_status(
                order,
                target,
                f"Partner update: {update.notes or 'Status changed by partner'}",
                context,
                # The partner's own words, so a callback about its move says nothing new.
                partner_note=update.notes,
            )
        except IllegalTransition as exc:
            raise StatusUpdateRejected(409, "illegal_transition", str(exc)) from exc
    result = StatusUpdateResult(
        order.order_number, target.value, str(transition.id) if transition else None
    )
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action=AUDIT_ACTION,
            changes={
                "partner_status": update.status,
                "chargecars_status": target.value,
                "partner_order_id": update.partner_order_id,
                "changed": transition is not None,
                "webhook_id": webhook_id,
                **result.as_dict(),
            },
        )
    )
    integration.last_sync_at = utcnow()
    return result


def map_status(integration: PartnerIntegration, partner_status: str) -> OrderStatus:
    """Our status for the partner's; :class:`StatusUpdateRejected` (422) when it is
    unmapped or maps to a status not granted to the partner."""
    mapping = (integration.status_mapping or {}).get("partner_to_chargecars") or {}
    target = mapping.get(partner_status)
    if target is None:
        # Partners are not always consistent about case ("in_progress"/"IN_PROGRESS").
        folded = {str(key).casefold(): value for key, value in mapping.items()}
        target = folded.get(partner_status.casefold())
    if target is None:
        known = ", ".join(sorted(map(str, mapping))) or "none configured"
        raise StatusUpdateRejected(
            422,
            "unknown_status",
            f"Status {partner_status!r} is not in this partner's status mapping (known: {known}).",
            {"status": f"unknown status {partner_status!r}"},
        )
    try:
        status = OrderStatus(target)
    except ValueError as exc:
        raise StatusUpdateRejected(
            422,
            "unknown_status",
            f"Status {partner_status!r} maps to {target!r}, which is not an order status.",
            {"status": f"{partner_status!r} maps to unknown status {target!r}"},
        ) from exc
    # A grant withdrawn after the mapping was saved (or a mapping written to the
    # database by hand) is checked again here: the grant holds for every update.
    problem = partner_status_problem(integration, status.value)
    if problem:
        raise StatusUpdateRejected(
            422,
            "status_not_allowed",
            f"Status {partner_status!r} maps to {status.value}: {problem}.",
            {"status": problem},
        )
    return status


def previous_result(
    integration: PartnerIntegration, webhook_id: str, update: PartnerStatusUpdateIn
) -> StatusUpdateResult:
    """What the first delivery of ``webhook_id`` answered, from its audit entry."""
    order = db.session.scalar(
        sa.select(Order).where(
            Order.partner_organization_id == integration.partner_organization_id,
            Order.partner_order_id == update.partner_order_id,
        )
    )
    if order is not None:
        entries = db.session.scalars(
            sa.select(AuditLog).where(
                AuditLog.table_name == "orders",
                AuditLog.record_id == order.id,
                AuditLog.action == AUDIT_ACTION,
            )
        )
        for entry in entries:
            changes = entry.changes or {}
            if changes.get("webhook_id") == webhook_id:
                return StatusUpdateResult(
                    changes["chargecars_order_id"],
                    changes["mapped_status"],
                    changes.get("transition_id"),
                )
    # Only reachable if the audit entry was removed by hand: answer with what is.
    log.warning("no audit entry for processed partner webhook %s", webhook_id)
    return StatusUpdateResult(
        order.order_number if order else "", order.status.value if order else "", None
    )


def record_rejection(
    integration: PartnerIntegration, webhook_id: str, raw_body: bytes, reason: str
) -> None:
    """Keep a rejected update as a failed event, to be seen and re-run (no commit)."""
    event, _ = record_event(SOURCE, dedupe_key(integration, webhook_id), raw_body, process=False)
    db.session.execute(
        sa.update(InboundWebhookEvent)
        .where(InboundWebhookEvent.id == event.id)
        .values(
            processing_state=ProcessingState.FAILED,
            attempts=InboundWebhookEvent.attempts + 1,
            last_error=reason[:2000],
            updated_at=utcnow(),
        )
    )


def dedupe_key(integration: PartnerIntegration, webhook_id: str) -> str:
    # webhook-ids are unique per sender only, so the partner is part of the key.
    return f"{integration.partner_organization_id}:{webhook_id}"


def _mark_processed(event_id: uuid.UUID) -> None:
    now = utcnow()
    db.session.execute(
        sa.update(InboundWebhookEvent)
        .where(InboundWebhookEvent.id == event_id)
        .values(
            processing_state=ProcessingState.PROCESSED,
            processed_at=now,
            attempts=InboundWebhookEvent.attempts + 1,
            last_error=None,
            updated_at=now,
        )
    )


# --- re-running a stored update (admin events page) ---------------------------------


def process_event(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry: apply a kept (failed) update again, as the endpoint would.

    The signature was checked when it arrived; a rejection now fails the event
    again with the reason.
    """
    partner_id, _, webhook_id = event.dedupe_key.partition(":")
    integration = find_integration(partner_id)
    if integration is None:
        raise UnprocessableEvent(f"partner {partner_id} has no active integration")
    try:
        update = parse_update(json.loads(event.raw_body))
    except (ValueError, InvalidUpdate) as exc:
        raise UnprocessableEvent(f"not a status update: {exc}") from exc
    try:
        apply_update(integration, update, webhook_id)
    except StatusUpdateRejected as exc:
        raise UnprocessableEvent(exc.message) from exc
