"""``POST /api/v1/webhooks/<provider>``: Stripe, HubSpot, QuickBooks and Salesforce calling in.

Registered after the channel webhooks (whatsapp, sms, …), whose fixed paths
win over this one. See :mod:`app.integrations.provider_webhooks.receiving` for each signed
scheme and :mod:`app.integrations.provider_webhooks.salesforce_outbound` for Salesforce's SOAP.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.integrations.provider_webhooks import salesforce_outbound
from app.integrations.provider_webhooks.receiving import receive
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit

bp = Blueprint("provider_webhooks", __name__, url_prefix="/api/v1/webhooks")
declare_blueprint(
    bp, signed("each provider's signature (app.integrations.provider_webhooks.schemes)")
)
csrf.exempt(bp)


@bp.post("/salesforce")
def receive_salesforce_message():
    """Store an outbound message's notifications and acknowledge it in SOAP.

    Every answer is SOAP: the ``notificationsResponse`` Ack (200) once the
    notifications are committed, else a fault with the refusal's status.
    """
    try:
        salesforce_outbound.receive_outbound()
    except ApiError as exc:
        body = salesforce_outbound.fault(exc.status, exc.code, exc.message, exc.fields)
        return Response(body, status=exc.status, content_type=salesforce_outbound.CONTENT_TYPE)
    commit()  # durable before the Ack: Salesforce stops redelivering once it has it
    return Response(salesforce_outbound.ACK, 200, content_type=salesforce_outbound.CONTENT_TYPE)


@bp.post("/<provider>")
def receive_provider_event(provider: str):
    """Store a signed provider call (401 unsigned or stale, 404 unknown, 400 malformed)."""
    received = receive(provider)
    commit()  # durable before we answer; processing is queued after the commit
    data = {"received": received.stored, "duplicates": received.duplicates}
    return jsonify(success=True, data=data), 200
