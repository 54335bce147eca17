"""``POST /api/v1/webhooks/<provider>``: Stripe, HubSpot and QuickBooks calling in.

Registered after the channel webhooks (whatsapp, sms, …), whose fixed paths
win over this one. See :mod:`app.integrations.webhooks_in` for each scheme.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.extensions import csrf
from app.integrations.webhooks_in import receive
from app.transactions import commit

bp = Blueprint("provider_webhooks", __name__, url_prefix="/api/v1/webhooks")
csrf.exempt(bp)


@bp.post("/<provider>")
def receive_provider_event(provider: str):
    """Store a signed provider call (401 unsigned or stale, 404 unknown, 400 malformed)."""
    received = receive(provider)
    commit()  # durable before we answer; processing is queued after the commit
    data = {"received": received.stored, "duplicates": received.duplicates}
    return jsonify(success=True, data=data), 200
