"""Web Push to the technician's phone: subscriptions, and one push per event each.

The phone's browser subscribes with its push service (the endpoint URL and two
keys, RFC 8030/8291); we keep that in ``push_subscriptions``. A push is sent by
a job: it encrypts the payload for the subscription (aes128gcm) and signs a
VAPID token (RFC 8292) with ``VAPID_PRIVATE_KEY``, with pywebpush. Each push is
claimed in ``push_deliveries`` before it leaves, so a job run twice pushes
once. A subscription the push service calls gone (404/410) is dropped.

Without ``VAPID_PUBLIC_KEY`` and ``VAPID_PRIVATE_KEY`` push is off: nothing is
queued and the phone shows no button.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from pywebpush import WebPushException, webpush
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.platform.extensions import db
from app.platform.models import PushDelivery, PushSubscription
from app.platform.security.outbound import UnsafeTarget, guarded_session, vet_url
from app.platform.transactions import commit

log = logging.getLogger(__name__)
# Seconds one push service gets to take a message.
PUSH_TIMEOUT = 10
# How long a push service keeps a message for a phone that is off (seconds).
PUSH_TTL = 6 * 3600
GONE = (404, 410)
MAX_ENDPOINT_LENGTH = 2000


@dataclass(frozen=True)
class PushMessage:
    """What the phone shows: a title, a line, and the ``/m/`` page a tap opens."""

    title: str
    body: str
    url: str
    tag: str

    def payload(self) -> bytes:
        return json.dumps(
            {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}
        ).encode()


class SubscriptionRefused(ValueError):
    """The browser's subscription is not one we can push to."""


def push_enabled() -> bool:
    """True when a VAPID key pair is configured."""
    config = current_app.config
    return bool(config.get("VAPID_PUBLIC_KEY") and config.get("VAPID_PRIVATE_KEY"))


def subscribe(user_id: uuid.UUID, subscription: dict) -> None:
    """Keep ``subscription`` (the browser's ``PushSubscription.toJSON()``) for ``user_id``.

    An endpoint is one browser: subscribing it again (another technician signed
    in on the same phone) moves it to ``user_id``.
    """
    endpoint = str(subscription.get("endpoint") or "")
    keys = subscription.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH or not _is_b64(p256dh, auth):
        raise SubscriptionRefused("endpoint and keys are required")
    # The browser names the endpoint, so anyone signed in could name an internal
    # address for our worker to post to: the outbound URL check, here and at send.
    try:
        endpoint = vet_url(endpoint)
    except UnsafeTarget as exc:
        raise SubscriptionRefused(f"endpoint {exc}") from exc
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(PushSubscription).values(
        id=uuid.uuid4(), user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["endpoint"],
            set_={"user_id": user_id, "p256dh": p256dh, "auth": auth},
        )
    )


def unsubscribe(user_id: uuid.UUID, endpoint: str) -> None:
    """Forget ``user_id``'s subscription at ``endpoint`` (nothing when it is not theirs)."""
    db.session.execute(
        sa.delete(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
        )
    )


def has_subscription(user_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            sa.select(PushSubscription.id).where(PushSubscription.user_id == user_id).limit(1)
        )
        is not None
    )


def push_to_user(user_id: uuid.UUID, event_key: str, message: PushMessage) -> int:
    """Send ``message`` to each of the user's subscriptions not yet sent ``event_key``.

    Returns how many pushes left now. Each claim is committed before its send.
    """
    sent = 0
    subscriptions = db.session.scalars(
        sa.select(PushSubscription).where(PushSubscription.user_id == user_id)
    ).all()
    for subscription in subscriptions:
        delivery_id = _claim(subscription.id, event_key)
        if delivery_id is None:
            continue
        status = _send(subscription, message)
        db.session.execute(
            sa.update(PushDelivery).where(PushDelivery.id == delivery_id).values(status_code=status)
        )
        if status in GONE:
            log.info("push subscription %s is gone (%s): dropped", subscription.id, status)
            db.session.execute(
                sa.delete(PushSubscription).where(PushSubscription.id == subscription.id)
            )
        commit()
        sent += status is not None and status < 300
    return sent


def _claim(subscription_id: uuid.UUID, event_key: str) -> uuid.UUID | None:
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    claimed = db.session.execute(
        insert(PushDelivery)
        .values(id=uuid.uuid4(), subscription_id=subscription_id, event_key=event_key)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_key"])
        .returning(PushDelivery.id)
    ).scalar()
    commit()
    return claimed


def _send(subscription: PushSubscription, message: PushMessage) -> int | None:
    config = current_app.config
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=message.payload(),
            vapid_private_key=config["VAPID_PRIVATE_KEY"],
            vapid_claims={"sub": config["VAPID_SUBJECT"]},
            content_encoding="aes128gcm",
            ttl=PUSH_TTL,
            timeout=PUSH_TIMEOUT,
            requests_session=guarded_session(),
        )
    except UnsafeTarget as exc:
        log.warning("push to subscription %s refused: %s", subscription.id, exc)
        return None
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        log.warning("push to subscription %s refused: %s", subscription.id, status or exc)
        return status
    except Exception:  # noqa: BLE001 - a network failure: logged, the claim stays
        log.exception("push to subscription %s failed", subscription.id)
        return None
    return response.status_code


def _is_b64(*values: str) -> bool:
    try:
        return all(value and base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
                   for value in values)
    except (ValueError, TypeError):
        return False


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: (public key for the browser, private key), base64url."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(public), _b64(private)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
