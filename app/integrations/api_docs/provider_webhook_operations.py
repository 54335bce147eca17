"""The integration hub's provider webhooks in the OpenAPI document.

Salesforce's SOAP outbound messages and the signed provider events at
``/api/v1/webhooks/{provider}``, each provider with its documented scheme
(:mod:`app.integrations.provider_webhooks.receiving`,
:mod:`app.integrations.provider_webhooks.schemes`).
"""

from __future__ import annotations

from app.orders.partners.schemas import ErrorBody


def provider_webhook_operations(operation, signed_webhook: dict) -> list:
    """Built with ``operation`` (:class:`app.integrations.api_docs.openapi.Operation`), like the
    hub's;
    ``signed_webhook`` is the answers every signed webhook shares (401, 400)."""
    return [
        operation(
            "post",
            "/api/v1/webhooks/salesforce",
            "Salesforce outbound messages (SOAP notifications)",
            "Webhooks",
            body_description=(
                "Salesforce's outbound message: a SOAP 1.1 envelope whose Body is "
                "`notifications` (http://soap.sforce.com/2005/09/outbound) with OrganizationId, "
                "ActionId, SessionId, EnterpriseUrl, PartnerUrl and 1–100 Notification "
                "elements (Id, sObject typed sf:<Object>). A DTD is refused."
            ),
            body_media="text/xml",
            description=(
                "Salesforce signs nothing: OrganizationId must be the organization_id set on "
                "an active Salesforce integration (15 or 18 characters). Each Notification is "
                "stored once under its Id and answered at once with the SOAP "
                "notificationsResponse `<Ack>true</Ack>`, so a redelivery changes nothing. "
                "Contact and Account become customer.created/updated, Opportunity "
                "referral.captured/converted/lost. Every answer is text/xml; refusals are "
                "SOAP faults (faultcode soapenv:Client, our code in detail)."
            ),
            responses={
                200: ("notificationsResponse with Ack true, text/xml", None),
                400: ("Not well-formed XML, a DTD, or not an outbound message (SOAP fault)", None),
                401: ("No Salesforce integration has its organization id set (SOAP fault)", None),
                403: ("The message comes from another organization (SOAP fault)", None),
                404: ("No active Salesforce integration (SOAP fault)", None),
                413: ("Body over 1 MB (SOAP fault)", None),
            },
        ),
        operation(
            "post",
            "/api/v1/webhooks/{provider}",
            "Integration hub provider events (Stripe, HubSpot, QuickBooks, Xero, Square, …)",
            "Webhooks",
            (
                "StripeSignature",
                "HubSpotSignatureV3",
                "IntuitSignature",
                "XeroSignature",
                "SquareSignature",
                "PipedriveBasicAuth",
                "RovidaSignature",
            ),
            body_description=(
                "The provider's own webhook body: a Stripe event; a HubSpot array of "
                "subscription events; a QuickBooks eventNotifications object; a Xero events "
                "batch; a Square event; a Pipedrive v1 or v2 webhook; a Zoho CRM notification; "
                "a ROVIDA notice "
                '{"id": "evt_…", "type": "work_order.created" | "work_order.updated", '
                '"data": {"work_order": {…}}}.'
            ),
            description=(
                "provider is stripe (Stripe-Signature, 300 s tolerance), hubspot "
                "(X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp, 5 minutes), "
                "quickbooks (intuit-signature), xero (x-xero-signature; an empty signed batch "
                "is Xero's intent to receive), square (x-square-hmacsha256-signature over the "
                "notification URL and body), pipedrive (HTTP Basic user:password set on the "
                "webhook), zoho_crm (the notification's token) or rovida (Rovida-Signature "
                't=…,v1=…: hex HMAC-SHA256 of "{t}.{body}", 300 s), checked with the secret of '
                "an active integration of that provider (set through /api/integrations; "
                "401 not_configured while none has one). Each event is stored once per "
                "provider event id and routed to platform events; a ROVIDA work order becomes "
                "one dispatched order however often it is announced."
            ),
            responses={
                200: ("Stored; data.received new events, data.duplicates repeats", None),
                404: ("Unknown provider, or no active integration for it", ErrorBody),
                413: ("Body over 1 MB", ErrorBody),
                **signed_webhook,
            },
        ),
    ]
