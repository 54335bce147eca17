"""Where a delivery goes, by kind: one small target per kind of receiver.

The delivery engine (:mod:`app.orders.deliveries.jobs`) claims, posts, logs and retries
the same way for every delivery; what differs by who receives it is here: may
it go out now (and to which URL), how it is signed, whose send budget it uses,
what a 410 switches off, and which retry base applies.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.orders.deliveries.callback_settings import CallbackRoute, route_for
from app.orders.deliveries.signing import (
    endpoint_headers,
    make_scenario_headers,
    partner_callback_headers,
)
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, PartnerIntegration, WebhookEndpoint
from app.platform.models.enums import DeliveryKind

TEST_HEADER = "X-ChargeCars-Test"


class DeliveryTarget:
    """What differs between kinds of receiver; the defaults suit a plain receiver."""

    # The per-provider send budget a delivery takes first (app.platform.transports.ratelimit).
    rate_limit: str | None = None
    # The partner a callback is for: its health and its fallback e-mail.
    integration: PartnerIntegration | None = None

    def not_sendable(self, delivery: OutboundDelivery) -> str | None:
        """Why the delivery must not go out now, or None (and its URL as it is now)."""
        return None

    def headers(self, delivery: OutboundDelivery, body: bytes) -> dict[str, str]:
        raise NotImplementedError

    def disable(self, at: datetime, reason: str) -> bool:
        """Switch the receiver off after a 410 Gone; False when there is nothing to switch."""
        return False

    def retry_base_seconds(self) -> float | None:
        """The receiver's own first retry delay; None: ``DELIVERY_RETRY_BASE_SECONDS``."""
        return None


class PartnerCallbackTarget(DeliveryTarget):
    """The signed status callback to a partner's webhook URL."""

    # Which of the partner's callback settings apply (app.orders.deliveries.callback_settings).
    test = False

    def __init__(self, integration: PartnerIntegration | None) -> None:
        self.integration = integration
        self.route: CallbackRoute | None = None

    def not_sendable(self, delivery: OutboundDelivery) -> str | None:
        integration = self.integration
        if integration is None:
            return "not sent: the partner integration was removed"
        self.route = route_for(integration, test=self.test)
        if self.route.not_sent is not None:
            return self.route.not_sent
        # The partner may have moved its endpoint since: a retry goes where it is now.
        delivery.target_url = self.route.url
        return None

    def headers(self, delivery: OutboundDelivery, body: bytes) -> dict[str, str]:
        # Signed at send time with the secrets valid now, so a retry of a
        # callback first sent before a rotation carries the new secret's signature.
        route = self.route or route_for(self.integration, test=self.test)
        current, *previous = route.secrets
        return partner_callback_headers(
            event=delivery.event_type,
            msg_id=delivery.webhook_id,
            body=body,
            secret=current,
            previous_secrets=previous,
        )

    def disable(self, at: datetime, reason: str) -> bool:
        if self.integration is None:
            return False
        route = self.route or route_for(self.integration, test=self.test)
        if not route.live_endpoint:
            # A sandbox endpoint's 410 never switches off the live one: the
            # attempt just fails (and is retried) like any other refusal.
            return False
        self.integration.webhook_disabled_at = at
        self.integration.webhook_disabled_reason = reason
        return True


class SandboxCallbackTarget(PartnerCallbackTarget):
    """A test order's callback (the partner's sandbox): to the sandbox's own URL,
    signed with its own secret, and marked with ``X-ChargeCars-Test: true``
    beside the body's ``"test": true``."""

    test = True

    def headers(self, delivery: OutboundDelivery, body: bytes) -> dict[str, str]:
        return {**super().headers(delivery, body), TEST_HEADER: "true"}


class MakeScenarioTarget(DeliveryTarget):
    """A Make.com scenario's webhook, signed with ``MAKE_WEBHOOK_SECRET``."""

    rate_limit = "make"

    def headers(self, delivery: OutboundDelivery, body: bytes) -> dict[str, str]:
        return make_scenario_headers(
            scenario=delivery.event_type,
            msg_id=delivery.webhook_id,
            body=body,
            secret=current_app.config.get("MAKE_WEBHOOK_SECRET"),
        )


class EndpointTarget(DeliveryTarget):
    """An outgoing webhook endpoint of the integration hub."""

    def __init__(self, endpoint: WebhookEndpoint | None) -> None:
        self.endpoint = endpoint

    def not_sendable(self, delivery: OutboundDelivery) -> str | None:
        endpoint = self.endpoint
        if endpoint is None:
            return "not sent: the webhook endpoint was removed"
        if endpoint.disabled_at is not None:
            return f"not sent: the endpoint is disabled ({endpoint.disabled_reason or 'no reason'})"
        if not endpoint.is_active:
            return "not sent: the endpoint is switched off"
        if not endpoint.secret:
            return "not sent: the endpoint has no secret to sign with"
        delivery.target_url = endpoint.url  # an edited URL applies to retries too
        return None

    def headers(self, delivery: OutboundDelivery, body: bytes) -> dict[str, str]:
        return endpoint_headers(
            event=delivery.event_type,
            msg_id=delivery.webhook_id,
            body=body,
            secret=self.endpoint.secret,
            custom_headers=self.endpoint.custom_headers,
        )

    def disable(self, at: datetime, reason: str) -> bool:
        if self.endpoint is None:
            return False
        self.endpoint.disabled_at = at
        self.endpoint.disabled_reason = reason
        return True

    def retry_base_seconds(self) -> float | None:
        return self.endpoint.retry_base_seconds if self.endpoint is not None else None


def target_for(delivery: OutboundDelivery) -> DeliveryTarget | None:
    """The delivery's target; None for kinds this engine does not send (Teams cards)."""
    if delivery.kind == DeliveryKind.PARTNER_CALLBACK:
        integration = (
            db.session.get(PartnerIntegration, delivery.partner_integration_id)
            if delivery.partner_integration_id
            else None
        )
        if delivery.is_test:
            return SandboxCallbackTarget(integration)
        return PartnerCallbackTarget(integration)
    if delivery.kind == DeliveryKind.MAKE_SCENARIO:
        return MakeScenarioTarget()
    if delivery.kind == DeliveryKind.WEBHOOK_ENDPOINT:
        endpoint = (
            db.session.get(WebhookEndpoint, delivery.webhook_endpoint_id)
            if delivery.webhook_endpoint_id
            else None
        )
        return EndpointTarget(endpoint)
    return None
