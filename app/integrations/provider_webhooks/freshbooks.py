"""FreshBooks' callback handshake: how we learn the verifier FreshBooks signs with.

When a callback is registered, FreshBooks POSTs the form
``name=callback.verify&object_id=<callback id>&verifier=<verifier>&account_id=…``
to the callback's URI and sends no events on it until the app returns the
verifier: ``PUT {FRESHBOOKS_API_BASE}/events/account/<account_id>/events/callbacks/<callback id>``
with ``{"callback": {"callback_id": <id>, "verifier": "<verifier>"}}`` and the
account's bearer token (FreshBooks' webhook docs). Every later event is signed
with that verifier (``X-FreshBooks-Hmac-SHA256``).

The receiver stores the handshake like any event (deduplicated by callback and
verifier, the verifier itself encrypted in the stored body) and answers 200;
the webhook job confirms it with FreshBooks through the integration's connector.

Why an unsigned post may lead to a stored secret: the handshake cannot be
signed with a verifier we do not know yet, so anyone can post one. The
verifier becomes the integration's ``webhook_secret`` only once FreshBooks,
called by us with the integration's own OAuth token, accepts it for that
callback of that account. A forged ``callback.verify`` carries a verifier
FreshBooks never issued (or a callback id not of this account), FreshBooks
refuses the PUT, and nothing changes: the forger cannot plant a secret to sign
his own events with. An integration that has a verifier keeps it unless
FreshBooks confirms a new one (a callback registered again).
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import quote

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.oauth import integration_credentials
from app.integrations.provider_webhooks.schemes import ProviderEvent, compact, malformed
from app.integrations.services import record_audit
from app.platform.audit.records import field_changes
from app.platform.crypto import keyring
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Integration

log = logging.getLogger(__name__)

VERIFY = "callback.verify"
CREDENTIAL = "webhook_secret"  # noqa: S105 (the registry's credential name for FreshBooks)
ENCRYPTED = "verifier_encrypted"


def split_verification(fields) -> list[ProviderEvent] | None:
    """The handshake as one stored event, or None when the call is an ordinary event."""
    if not isinstance(fields, dict) or fields.get("name") != VERIFY:
        return None
    missing = {k: "required" for k in ("object_id", "verifier", "account_id") if not fields.get(k)}
    if missing:
        raise malformed("A FreshBooks callback.verify names its callback and verifier.", missing)
    verifier = fields["verifier"]
    # The same callback and verifier again is FreshBooks resending: one event.
    digest = hashlib.sha256(verifier.encode()).hexdigest()[:24]
    key = f"{VERIFY}:{fields['account_id']}:{fields['object_id']}:{digest}"
    stored = {k: v for k, v in fields.items() if k != "verifier"}
    stored[ENCRYPTED] = keyring.encrypt(verifier)
    return [ProviderEvent(key, VERIFY, compact(stored))]


def confirm_verification(
    integration: Integration, body: dict, event: InboundWebhookEvent
) -> Integration | None:
    """Return the verifier to FreshBooks; keep it on the integration FreshBooks accepts it for.

    The integration the event was stored for is asked first, then the other
    active FreshBooks integrations (only the account's own token can verify
    its callback). A refusal changes nothing; a FreshBooks outage raises, so
    the event fails and can be run again.
    """
    callback_id, account_id = str(body.get("object_id", "")), str(body.get("account_id", ""))
    verifier = keyring.decrypt(str(body.get(ENCRYPTED, "")))
    refusals = []
    for candidate in _candidates(integration):
        try:
            _put_verifier(candidate, account_id, callback_id, verifier)
        except ConnectorError as exc:
            if exc.retryable:
                raise
            refusals.append(f"{candidate.name}: {exc}")
            continue
        event.note = _keep(candidate, verifier, callback_id)[:2000]
        return candidate
    event.note = (
        f"FreshBooks did not confirm the verifier of callback {callback_id} "
        f"({'; '.join(refusals) or 'no integration'}); no webhook verifier was changed."
    )[:2000]
    log.warning("freshbooks callback %s: verifier refused", callback_id)
    return None


def _candidates(first: Integration) -> list[Integration]:
    others = db.session.scalars(
        sa.select(Integration)
        .where(
            Integration.provider == "freshbooks",
            Integration.status == "active",
            Integration.id != first.id,
        )
        .options(so.undefer(Integration.credentials))
        .order_by(Integration.created_at)
    ).all()
    return [first, *others] if first.status == "active" else list(others)


def _put_verifier(integration: Integration, account_id: str, callback_id: str, verifier: str):
    path = (
        f"/events/account/{quote(account_id, safe='')}"
        f"/events/callbacks/{quote(callback_id, safe='')}"
    )
    callback_value: int | str = int(callback_id) if callback_id.isdigit() else callback_id
    answer = connector_for(integration).request(
        "PUT", path, json={"callback": {"callback_id": callback_value, "verifier": verifier}}
    )
    result = ((answer or {}).get("response") or {}).get("result") or {}
    if (result.get("callback") or {}).get("verified") is not True:
        raise ConnectorError("FreshBooks did not mark the callback verified", retryable=False)


def _keep(integration: Integration, verifier: str, callback_id: str) -> str:
    credentials = integration_credentials(integration)
    before = credentials.get(CREDENTIAL)
    if before == verifier:
        return f"FreshBooks confirmed callback {callback_id}; its verifier was already kept."
    integration.credentials = {**credentials, CREDENTIAL: verifier}
    changes = field_changes({CREDENTIAL: before}, {CREDENTIAL: verifier}, secret=[CREDENTIAL])
    record_audit(integration, "integration_updated", None, changes)
    replaced = " (replacing the earlier one)" if before else ""
    return (
        f"FreshBooks confirmed callback {callback_id}; its verifier is now "
        f"{integration.name}'s webhook verifier{replaced}."
    )
