"""What a person does with deliveries: retry one, send a test event, re-enable an endpoint.

The delivery log's buttons call these; each commits and queues the work, and
the attempt itself runs in the delivery job like any other.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _

from app.orders.deliveries.callback_settings import route_for
from app.orders.deliveries.outbox import queue_after_commit, record_delivery
from app.orders.deliveries.partner_events import TEST as TEST_EVENT
from app.orders.deliveries.payloads import sample_callback_payload
from app.platform.audit.records import record_change
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, PartnerIntegration, User
from app.platform.models.enums import DeliveryKind, OutboundState
from app.platform.transactions import commit

RETRYABLE_STATES = (OutboundState.FAILED, OutboundState.PENDING, OutboundState.CANCELLED)


def retry_delivery(delivery_id: uuid.UUID, user: User) -> OutboundDelivery:
    """One more attempt now, on ``user``'s behalf; commits and queues it.

    Allowed for failed deliveries, pending ones (waiting for their next retry)
    and ones not sent because the endpoint was disabled, once it is enabled
    again. Raises LookupError for an unknown id and ValueError, with a message
    for the person, when the delivery cannot be retried.
    """
    delivery = db.session.get(OutboundDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise LookupError(f"no delivery {delivery_id}")
    if delivery.state not in RETRYABLE_STATES:
        if delivery.state == OutboundState.IN_PROGRESS:
            raise ValueError(_("This delivery is being sent right now; wait for the outcome."))
        raise ValueError(_("This delivery was delivered already; there is nothing to retry."))
    integration = _integration(delivery)
    if (
        integration is not None
        and integration.webhook_disabled_at is not None
        # A test callback bound for the sandbox's own URL does not wait for the live one.
        and route_for(integration, test=delivery.is_test).live_endpoint
    ):
        raise ValueError(
            _(
                "The partner's endpoint is disabled (%(reason)s); re-enable it first.",
                reason=integration.webhook_disabled_reason or _("no reason recorded"),
            )
        )
    delivery.state = OutboundState.PENDING
    delivery.next_attempt_at = utcnow()
    delivery.claimed_at = None
    # One attempt more than have been made, whatever the budget was.
    delivery.max_attempts = max(delivery.max_attempts, delivery.attempt_count + 1)
    queue_after_commit(delivery.id, triggered_by_user_id=user.id)
    commit()
    return delivery


def send_test_event(integration: PartnerIntegration, user: User) -> OutboundDelivery:
    """Send a signed ``test`` event with a sample callback body to the partner's webhook_url.

    One attempt, logged like any callback. Raises ValueError when there is no
    webhook URL or the endpoint is disabled.
    """
    if not (integration.webhook_url or "").strip():
        raise ValueError(
            _("This partner has no webhook URL; set one before sending a test event.")
        )
    if integration.webhook_disabled_at is not None:
        raise ValueError(
            _(
                "The partner's endpoint is disabled (%(reason)s); "
                "re-enable it before sending a test event.",
                reason=integration.webhook_disabled_reason or _("no reason recorded"),
            )
        )
    if not integration.webhook_secret:
        raise ValueError(_("This partner has no webhook secret to sign the test event with."))
    delivery = record_delivery(
        DeliveryKind.PARTNER_CALLBACK,
        target_url=integration.webhook_url.strip(),
        event_type=TEST_EVENT,
        payload=sample_callback_payload(integration),
        integration=integration,
        max_attempts=1,
        triggered_by_user_id=user.id,
    )
    commit()
    return delivery


def reenable_endpoint(integration: PartnerIntegration, user: User) -> PartnerIntegration:
    """Clear the 410 block so callbacks flow again; audited; commits."""
    previous = integration.webhook_disabled_reason
    integration.webhook_disabled_at = None
    integration.webhook_disabled_reason = None
    record_change(
        PartnerIntegration.__tablename__,
        integration.id,
        "WEBHOOK_REENABLED",
        {"previous_reason": previous},
        user_id=user.id,
    )
    commit()
    return integration


def _integration(delivery: OutboundDelivery) -> PartnerIntegration | None:
    if delivery.partner_integration_id is None:
        return None
    return db.session.get(PartnerIntegration, delivery.partner_integration_id)
