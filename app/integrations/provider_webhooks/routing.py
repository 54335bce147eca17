"""From a stored provider event to platform events, in the webhook job.

:data:`app.platform.webhooks.processing.PROCESSORS` sends the events of every provider
with a webhook receiver here (Stripe, HubSpot, QuickBooks, Xero, Square,
Pipedrive, Zoho CRM, FreshBooks). Each provider's event names map to our catalogue
(:mod:`app.integrations.endpoints.events`); an event we do not route (Stripe sends
hundreds of kinds) is processed with nothing to do. Everything happens in the
job's transaction: the platform event, its deliveries to subscribed endpoints
and any sync work commit together.
"""

from __future__ import annotations

import json
import logging

from app.integrations.endpoints import emit_event
from app.integrations.payments import (
    PaymentNotApplicable,
    apply_payment_succeeded,
    quickbooks_payment,
    stripe_charge_refunded,
    stripe_refund,
)
from app.integrations.provider_webhooks.freshbooks import VERIFY, confirm_verification
from app.integrations.provider_webhooks.receiving import integration_of
from app.integrations.provider_webhooks.schemes import pipedrive_event_id
from app.integrations.sync import SyncRefused, start_sync
from app.platform.models import InboundWebhookEvent, Integration, SyncJob
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

STRIPE_EVENTS = {
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "customer.deleted": "customer.deleted",
    "invoice.created": "invoice.created",
    "invoice.updated": "invoice.updated",
    "invoice.sent": "invoice.sent",
    "invoice.paid": "invoice.paid",
    "invoice.overdue": "invoice.overdue",
    "invoice.payment_failed": "payment.failed",
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.payment_failed": "payment.failed",
    "charge.refunded": "payment.refunded",
}
HUBSPOT_EVENTS = {
    "contact.creation": "customer.created",
    "contact.propertyChange": "customer.updated",
    "contact.deletion": "customer.deleted",
    "company.creation": "customer.created",
    "company.propertyChange": "customer.updated",
    "company.deletion": "customer.deleted",
    "deal.creation": "job.created",
    "deal.propertyChange": "job.updated",
    "deal.deletion": "job.cancelled",
}
QUICKBOOKS_EVENTS = {
    "Customer.Create": "customer.created",
    "Customer.Update": "customer.updated",
    "Customer.Merge": "customer.updated",
    "Customer.Delete": "customer.deleted",
    "Invoice.Create": "invoice.created",
    "Invoice.Update": "invoice.updated",
    "Invoice.Emailed": "invoice.sent",
    "Payment.Create": "payment.received",
    "Payment.Delete": "payment.refunded",
}
XERO_EVENTS = {
    "CONTACT.CREATE": "customer.created",
    "CONTACT.UPDATE": "customer.updated",
    "INVOICE.CREATE": "invoice.created",
    "INVOICE.UPDATE": "invoice.updated",
}
SQUARE_EVENTS = {
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "customer.deleted": "customer.deleted",
    "invoice.created": "invoice.created",
    "invoice.updated": "invoice.updated",
    "invoice.published": "invoice.sent",
    "invoice.payment_made": "invoice.paid",
    "refund.created": "payment.refunded",
}
# Pipedrive v1 (added/updated/deleted + object) and v2 (create/change/delete + entity).
PIPEDRIVE_EVENTS = {
    f"{action}.{kind}": f"{ours}.{what}"
    for kind, ours in (("person", "customer"), ("organization", "customer"), ("deal", "job"))
    for actions, what in (
        (("added", "create"), "created"),
        (("updated", "change"), "updated"),
        (("deleted", "delete"), "cancelled" if ours == "job" else "deleted"),
    )
    for action in actions
}
ZOHO_EVENTS = {
    f"{module}.{operation}": f"{ours}.{what}"
    for module, ours in (("Contacts", "customer"), ("Accounts", "customer"), ("Deals", "job"))
    for operation, what in (
        ("insert", "created"),
        ("update", "updated"),
        ("delete", "cancelled" if ours == "job" else "deleted"),
    )
}
FRESHBOOKS_EVENTS = {
    "client.create": "customer.created",
    "client.update": "customer.updated",
    "client.delete": "customer.deleted",
    "invoice.create": "invoice.created",
    "invoice.update": "invoice.updated",
    "invoice.sendByEmail": "invoice.sent",
    "payment.create": "payment.received",
}
# Sync work a provider event triggers besides its platform event, called with
# (integration, provider object, stored event) in the same transaction.
SYNC_HANDLERS = {
    ("stripe", "payment_intent.succeeded"): apply_payment_succeeded,
}
# Provider events that move money on our invoices (app.integrations.payments.incoming),
# called with (integration, provider object, stored event). For our orders they
# emit their own platform events, only for what changed (one refund arrives as
# two Stripe events, one QuickBooks payment as Create and Update) and answer
# True; anything else goes on to its ordinary platform event below.
LEDGER_HANDLERS = {
    ("quickbooks", "Payment.Create"): quickbooks_payment,
    ("quickbooks", "Payment.Update"): quickbooks_payment,
    ("stripe", "charge.refunded"): stripe_charge_refunded,
    ("stripe", "refund.created"): stripe_refund,
    ("stripe", "refund.updated"): stripe_refund,
}


def process_event(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry for each provider in :data:`ROUTERS`."""
    integration = integration_of(event)
    try:
        body = json.loads(event.raw_body)
    except ValueError as exc:
        raise UnprocessableEvent(f"stored body is not JSON: {exc}") from exc
    ledger = LEDGER_HANDLERS.get((event.source, event.event_type))
    event.note = None  # a re-run says afresh what it found
    if (event.source, event.event_type) == ("freshbooks", VERIFY):
        confirm_verification(integration, body, event)  # no platform event: a handshake
        return
    if ledger is not None and ledger(integration, _provider_object(event.source, body), event):
        return  # it moved money on our invoices and told endpoints so itself
    routed = ROUTERS[event.source](body)
    if routed is None:
        log.info("%s event %s (%s) is not routed", event.source, event.id, event.event_type)
        return
    name, data, provider_object = routed
    emit_event(name, data, source=event.source, integration=integration, inbound_event=event)
    pull_now(integration, name)
    handler = SYNC_HANDLERS.get((event.source, data["provider_event_type"]))
    if handler is not None:
        try:
            handler(integration, provider_object, event)
        except PaymentNotApplicable as exc:
            # Not one of our orders (a payment taken elsewhere): the platform
            # event still stands, there is just nothing to reconcile.
            log.info("%s event %s has no sync work: %s", event.source, event.id, exc)
            event.note = str(exc)[:2000]


# Platform events that mean "their contacts changed": for an integration synced
# in real time they start an inbound contacts sync (the webhook is the trigger).
PULL_ON = {"customer.created", "customer.updated"}
PULL_DIRECTIONS = ("one_way_in", "two_way")


def pull_now(integration: Integration, name: str) -> SyncJob | None:
    """Start an inbound contacts sync for a real-time integration, unless one runs."""
    if (
        name not in PULL_ON
        or integration.sync_frequency != "real_time"
        or integration.sync_direction not in PULL_DIRECTIONS
    ):
        return None
    try:
        return start_sync(integration, "contacts", "in", None)
    except SyncRefused as exc:
        # Already running (it will see this change) or contacts are not pulled here.
        log.info("real-time pull for %s not started: %s", integration.name, exc)
        return None


def route_stripe(body: dict):
    name = STRIPE_EVENTS.get(body.get("type"))
    if name is None:
        return None
    obj = body["data"]["object"]
    data = _data("stripe", body["id"], body["type"], obj.get("object"), obj.get("id"))
    data["object"] = obj
    return name, data, obj


def route_hubspot(item: dict):
    name = HUBSPOT_EVENTS.get(item.get("subscriptionType"))
    if name is None:
        return None
    kind = item["subscriptionType"].partition(".")[0]
    data = _data("hubspot", item["eventId"], item["subscriptionType"], kind, item.get("objectId"))
    data.update(
        portal_id=item.get("portalId"),
        occurred_at=item.get("occurredAt"),
        property_name=item.get("propertyName"),
        property_value=item.get("propertyValue"),
        change_source=item.get("changeSource"),
    )
    return name, data, item


def route_quickbooks(change: dict):
    provider_type = f"{change.get('name')}.{change.get('operation')}"
    name = QUICKBOOKS_EVENTS.get(provider_type)
    if name is None:
        return None
    key = ":".join(
        str(change.get(k, "")) for k in ("realmId", "name", "id", "operation", "lastUpdated")
    )
    data = _data("quickbooks", key, provider_type, str(change["name"]).lower(), change.get("id"))
    data.update(realm_id=change.get("realmId"), last_updated=change.get("lastUpdated"))
    return name, data, change


def _provider_object(source: str, body):
    # A Stripe event wraps its object; a stored QuickBooks change is the object.
    return body["data"]["object"] if source == "stripe" else body


def route_xero(event: dict):
    provider_type = f"{event.get('eventCategory')}.{event.get('eventType')}"
    name = XERO_EVENTS.get(provider_type)
    if name is None:
        return None
    key = ":".join(
        str(event.get(k, ""))
        for k in ("tenantId", "eventCategory", "resourceId", "eventType", "eventDateUtc")
    )
    kind = str(event["eventCategory"]).lower()
    data = _data("xero", key, provider_type, kind, event.get("resourceId"))
    data.update(tenant_id=event.get("tenantId"), resource_url=event.get("resourceUrl"))
    return name, data, event


def route_square(body: dict):
    name = SQUARE_EVENTS.get(body.get("type"))
    if name is None:
        return None
    inner = body.get("data") or {}
    data = _data("square", body["event_id"], body["type"], inner.get("type"), inner.get("id"))
    data.update(merchant_id=body.get("merchant_id"), object=inner.get("object"))
    return name, data, inner.get("object")


def route_pipedrive(body: dict):
    meta = body.get("meta") or {}
    kind = meta.get("entity") or meta.get("object")
    provider_type = f"{meta.get('action')}.{kind}"
    name = PIPEDRIVE_EVENTS.get(provider_type)
    if name is None:
        return None
    object_id = meta.get("entity_id") if meta.get("entity") else meta.get("id")
    event_id = pipedrive_event_id(meta)
    data = _data("pipedrive", event_id, provider_type, kind, object_id)
    data.update(company_id=meta.get("company_id"), host=meta.get("host"))
    return name, data, body.get("data") or body.get("current")


def route_zoho(change: dict):
    provider_type = f"{change.get('module')}.{change.get('operation')}"
    name = ZOHO_EVENTS.get(provider_type)
    if name is None:
        return None
    key = ":".join(
        str(change.get(k, "")) for k in ("channel_id", "module", "operation", "id", "server_time")
    )
    kind = str(change["module"]).lower()
    data = _data("zoho_crm", key, provider_type, kind, change.get("id"))
    data.update(affected_fields=change.get("affected_fields"))
    return name, data, change


def route_freshbooks(fields: dict):
    name = FRESHBOOKS_EVENTS.get(fields.get("name"))
    if name is None:
        return None
    kind = str(fields["name"]).partition(".")[0]
    event_id = f"{fields.get('account_id', '')}:{fields['name']}:{fields.get('object_id')}"
    data = _data("freshbooks", event_id, fields["name"], kind, fields.get("object_id"))
    data.update(account_id=fields.get("account_id"), business_id=fields.get("business_id"))
    return name, data, fields


# By provider key; the providers are those whose registry entry declares a webhook.
ROUTERS = {
    "stripe": route_stripe,
    "hubspot": route_hubspot,
    "quickbooks": route_quickbooks,
    "xero": route_xero,
    "square": route_square,
    "pipedrive": route_pipedrive,
    "zoho_crm": route_zoho,
    "freshbooks": route_freshbooks,
}


def _data(provider, event_id, event_type, object_type, object_id) -> dict:
    return {
        "provider": provider,
        "provider_event_id": str(event_id),
        "provider_event_type": event_type,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
    }
