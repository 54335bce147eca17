"""``Idempotency-Key`` on order intake, with Stripe's meaning.

- The same key with the same body replays the first answer: its status code and
  its body byte for byte, with ``Idempotent-Replayed: true``.
- The same key with another body is refused: 422 ``idempotency_key_reused``.
- Keys are per partner and kept 24 hours (:func:`delete_expired_keys`, a
  periodic job); after that the key is new again.

As at Stripe, an answer is kept once the order intake has begun: a body that
fails validation (400, 422), a refused key (401, 403) or the rate limit (429)
keeps nothing, so the fixed request may reuse the key. Unlike Stripe, a server
error (5xx) keeps nothing either: its transaction, the key's row with it, is
rolled back, so nothing happened and a retry runs afresh.

The key's row is inserted in the intake's own transaction, before the order,
and unique on (partner, key). A second request with the key waits on that row
until the first commits, then replays its answer; should the first fail, the
second inserts the row and runs itself. No select-then-insert, so two at once
never make two orders.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.orders.partners.payload_digest import canonical_json
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import Organization, PartnerIdempotencyKey
from app.platform.transactions import commit

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT = timedelta(hours=24)
# Stripe's limit; printable ASCII, so a key survives any proxy and log unchanged.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyInvalid(ValueError):
    """The header's value cannot be a key."""


class KeyReused(Exception):
    """The key was used before with another body."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int | None
    body: str | None


def parse_key(raw: str | None) -> str | None:
    """The key in the header, None without one; :class:`KeyInvalid` if malformed."""
    if raw is None:
        return None
    if not KEY_PATTERN.match(raw):
        raise KeyInvalid("1 to 255 printable ASCII characters without spaces")
    return raw


def fingerprint(body: object) -> str:
    """SHA-256 of the body's canonical JSON: key order and spacing do not count."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def claim(partner: Organization, key: str, body_fingerprint: str) -> StoredAnswer | None:
    """Take ``key`` for this request, or give the answer stored for it.

    None: the key is this request's; answer, then :func:`remember` the answer in
    the same transaction. Raises :class:`KeyReused` for another body.
    """
    table = PartnerIdempotencyKey.__table__
    # An expired key not yet swept is gone as far as the partner is concerned.
    db.session.execute(
        sa.delete(table).where(
            table.c.partner_organization_id == partner.id,
            table.c.key == key,
            table.c.created_at < utcnow() - KEPT,
        )
    )
    now = utcnow()
    inserted = db.session.execute(
        upsert_insert(table, db.session.get_bind().dialect.name)
        .values(
            id=uuid.uuid4(),
            partner_organization_id=partner.id,
            key=key,
            request_fingerprint=body_fingerprint,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["partner_organization_id", "key"])
        .returning(table.c.id)
    ).scalar()
    if inserted is not None:
        return None
    row = db.session.execute(
        sa.select(
            table.c.request_fingerprint, table.c.response_status, table.c.response_body
        ).where(table.c.partner_organization_id == partner.id, table.c.key == key)
    ).one()
    if row.request_fingerprint != body_fingerprint:
        raise KeyReused(key)
    log.info("replaying idempotency key %r of %s", key, partner.name)
    return StoredAnswer(row.response_status, row.response_body)


def remember(partner: Organization, key: str, status: int, body: str) -> None:
    """Keep the answer given to ``key`` (in the transaction that claimed it)."""
    table = PartnerIdempotencyKey.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.partner_organization_id == partner.id, table.c.key == key)
        .values(response_status=status, response_body=body, updated_at=utcnow())
    )


def delete_expired_keys() -> int:
    """Periodic job: forget keys older than 24 hours."""
    table = PartnerIdempotencyKey.__table__
    deleted = db.session.execute(sa.delete(table).where(table.c.created_at < utcnow() - KEPT))
    commit()
    if deleted.rowcount:
        log.info("deleted %d expired idempotency keys", deleted.rowcount)
    return deleted.rowcount
