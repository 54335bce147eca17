"""Telling people a delivery gave up: in-app, Teams, and an e-mail to the partner.

Partner defaults: ``alert_after_failures: 3`` and ``fallback_to_email: true``. Admins
and team leads get a notification linking to the partner's delivery log, the
operations and tech channels get a Teams card, and the partner's contact gets
the status update by e-mail instead of by webhook.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.conversations.channels.email.settings import UnknownTemplate, template_ids
from app.conversations.channels.email.transactional import send_transactional
from app.conversations.channels.teams.sender import notify_teams
from app.conversations.notifications.services import announce, create_notification
from app.platform.extensions import db
from app.platform.models import (
    Contact,
    Order,
    Organization,
    OutboundDelivery,
    PartnerIntegration,
    User,
)
from app.platform.models.enums import DeliveryKind, Priority, Role
from app.platform.system_texts import SystemText, text
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

ALERTED_ROLES = (Role.ADMIN, Role.TEAM_LEAD)
NOTIFICATION_TYPE = "partner_callback_failed"
TEAMS_TRIGGER = "partner_callback_failed"
EMAIL_TEMPLATE_KEY = "partner_callback_failed"
# Used when SENDGRID_TEMPLATE_IDS does not name our key: a SendGrid dynamic template id.
DEFAULT_EMAIL_TEMPLATE = "d-partner-callback-failed-2025"


def delivery_log_path(delivery: OutboundDelivery, integration: PartnerIntegration | None) -> str:
    if integration is not None:
        return f"/partners/{integration.partner_organization_id}/deliveries"
    if delivery.webhook_endpoint_id is not None:
        return f"/integrations/webhooks/{delivery.webhook_endpoint_id}"
    return "/admin/channels/"


def alert_final_failure(
    delivery: OutboundDelivery, integration: PartnerIntegration | None, reason: str
) -> None:
    """Queue every alert for a delivery that will not be tried again (no commit).

    The caller commits with :func:`app.platform.transactions.commit`; notifications are
    announced and the Teams card and e-mail queued only then.
    """
    if delivery.is_test:
        # A sandbox callback that gave up is the partner's to see in its delivery
        # log: nobody here is alerted, and no fallback e-mail goes out.
        log.info("test delivery %s gave up (%s); no alerts", delivery.id, reason)
        return
    partner = integration.partner_organization if integration else None
    order = db.session.get(Order, delivery.order_id) if delivery.order_id else None
    who = partner.name if partner else "Make.com"
    if delivery.kind == DeliveryKind.WEBHOOK_ENDPOINT:
        who = f"webhook endpoint {urlsplit(delivery.target_url).hostname or delivery.target_url}"
    what = delivery.event_type + (f" for {order.order_number}" if order else "")
    title = text("notification.callback_failed", who=who, what=what)
    message = text(
        "notification.callback_gave_up",
        attempts=delivery.attempt_count,
        url=delivery.target_url,
        reason=reason,
    )
    link = delivery_log_path(delivery, integration)
    _notify_staff(delivery, title, message, link)
    teams_data = {
        "partner_name": who,
        "order_number": order.order_number if order else None,
        "event": delivery.event_type,
        "attempts": delivery.attempt_count,
        "error": reason,
        "path": link,
    }
    after_commit(lambda: notify_teams(TEAMS_TRIGGER, teams_data))
    if delivery.kind == DeliveryKind.PARTNER_CALLBACK and partner is not None:
        _email_partner(delivery, integration, partner, order, reason)


def _notify_staff(
    delivery: OutboundDelivery, title: SystemText, message: SystemText, link: str
) -> None:
    users = db.session.scalars(
        sa.select(User).where(User.role.in_(ALERTED_ROLES), User.is_active_account.is_(True))
    ).all()
    notifications = [
        create_notification(
            user.id,
            NOTIFICATION_TYPE,
            title,
            message,
            priority=Priority.HIGH,
            source_table="outbound_deliveries",
            source_record_id=delivery.id,
            link=link,
        )
        for user in users
    ]
    after_commit(lambda: [announce(n) for n in notifications])


def partner_alert_address(
    integration: PartnerIntegration, partner: Organization
) -> tuple[str, str | None] | None:
    """Where the fallback e-mail goes: alert_email, the partner's e-mail, its primary contact."""
    if integration.alert_email:
        return integration.alert_email, partner.name
    if partner.email:
        return partner.email, partner.name
    contact = db.session.scalar(
        sa.select(Contact)
        .where(Contact.organization_id == partner.id, Contact.email.is_not(None))
        .order_by(Contact.is_primary.desc(), Contact.created_at)
        .limit(1)
    )
    if contact is not None and contact.email:
        return contact.email, contact.display_name
    return None


def _email_partner(
    delivery: OutboundDelivery,
    integration: PartnerIntegration,
    partner: Organization,
    order: Order | None,
    reason: str,
) -> None:
    address = partner_alert_address(integration, partner)
    if address is None:
        log.warning(
            "delivery %s failed and partner %s has no e-mail address for the fallback",
            delivery.id,
            partner.id,
        )
        return
    to, name = address
    payload = delivery.payload or {}
    template = template_ids(current_app.config).get(EMAIL_TEMPLATE_KEY, DEFAULT_EMAIL_TEMPLATE)
    try:
        send_transactional(
            to,
            template,
            {
                "partner_name": partner.name,
                "event": delivery.event_type,
                "chargecars_order_id": payload.get("chargecars_order_id"),
                "partner_order_id": payload.get("partner_order_id"),
                "status": payload.get("status"),
                "status_details": payload.get("status_details"),
                "webhook_url": delivery.target_url,
                "attempts": delivery.attempt_count,
                "error": reason,
                "payload": payload,
            },
            ["partner_callback_failed"],
            name=name,
            order=order,
            subject=_subject(payload),
        )
    except (UnknownTemplate, ValueError) as exc:
        log.error("fallback e-mail for delivery %s to %s not recorded: %s", delivery.id, to, exc)


def _subject(payload: dict) -> str:
    order_number = payload.get("chargecars_order_id")
    about = f"Status update for {order_number}" if order_number else "Status update"
    return f"{about} (webhook delivery failed)"
