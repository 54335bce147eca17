"""Tombstones: an erasure stays done when the person's data comes in again.

Erasing a person empties their contact, but their CRM still holds them, and the
next inbound sync would fill the emptied contact again (or make a new one). So
the erasure leaves a tombstone for each identifier: their e-mail addresses,
phone numbers and CRM records. Every inbound path that brings a person from
another system consults :func:`is_erased` before it creates or fills a contact:
the CRM and hub sync (paged, and the providers' record-carrying webhooks, which
share :func:`app.integrations.sync.inbound.apply_remote_contact`) skip the record and
say so on its sync state. What the person does themselves is a new act and is
not refused: a message they send, or an order they place (through a partner,
a form or an e-mail), makes a new contact holding only what came with it, as
the erasure intends; nothing of the erased contact comes back, since its row
was emptied and its identities deleted.

Only :func:`lift_tombstone`, an admin's explicit act on the GDPR page, lets an
identifier come back.

**Why a keyed hash.** A plain SHA-256 of an e-mail address is found by hashing
a list of candidates, which would tell anyone with the database that the person
was our customer. The digest is HMAC-SHA256 under ``ERASURE_TOMBSTONE_KEY``,
or, when that is not set, a key derived from ``SECRET_KEY``: a deployment that
may rotate ``SECRET_KEY`` sets ``ERASURE_TOMBSTONE_KEY`` once, or its tombstones
stop matching after the rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.conversations.contacts.identities import EMAIL, PHONE, normalise_address
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import Contact, ErasureTombstone, SyncRecord

REMOTE = "remote"
LIFT_ACTION = "gdpr_tombstone_lifted"


def tombstone_key() -> bytes:
    configured = current_app.config.get("ERASURE_TOMBSTONE_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"switchboard erasure tombstones", hashlib.sha256).digest()


def _digest(kind: str, value: str) -> str:
    return hmac.new(tombstone_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _remote(integration_id, object_type: str, remote_id: str) -> str:
    return f"{integration_id}:{object_type}:{remote_id}"


def _identifiers(
    email: str | None = None,
    phone: str | None = None,
    remote: tuple | None = None,
) -> list[tuple[str, str]]:
    found = []
    for kind, raw in ((EMAIL, email), (PHONE, phone)):
        address = normalise_address(kind, raw) if raw else None
        if address:
            found.append((kind, address))
    if remote and all(remote):
        found.append((REMOTE, _remote(*remote)))
    return found


def bury(contact: Contact, addresses: dict[str, list[str]]) -> int:
    """Leave tombstones for ``contact`` (before it is emptied; no commit).

    ``addresses``: the person's channel addresses by kind, as the erasure holds
    them. Their contact fields and every CRM record synced to them count too.
    Writing one twice is harmless (a unique key, on conflict nothing).
    """
    identifiers = set(_identifiers(email=contact.email, phone=contact.phone))
    for kind, values in addresses.items():
        for value in values:
            identifiers.update(_identifiers(**{kind: value}) if kind in (EMAIL, PHONE) else [])
    records = db.session.execute(
        sa.select(SyncRecord.integration_id, SyncRecord.object_type, SyncRecord.remote_id).where(
            SyncRecord.local_id == str(contact.id), SyncRecord.remote_id.is_not(None)
        )
    ).all()
    identifiers.update((REMOTE, _remote(*record)) for record in records)
    if not identifiers:
        return 0
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [
        {"id": uuid.uuid4(), "kind": kind, "digest": _digest(kind, value)}
        for kind, value in sorted(identifiers)
    ]
    db.session.execute(
        insert(ErasureTombstone).values(rows).on_conflict_do_nothing(
            index_elements=["kind", "digest"]
        )
    )
    return len(rows)


def is_erased(
    *, email: str | None = None, phone: str | None = None, remote: tuple | None = None
) -> bool:
    """Whether any of these identifiers belongs to an erased person."""
    identifiers = _identifiers(email=email, phone=phone, remote=remote)
    if not identifiers:
        return False
    wanted = [
        sa.and_(ErasureTombstone.kind == kind, ErasureTombstone.digest == _digest(kind, value))
        for kind, value in identifiers
    ]
    return db.session.scalar(sa.select(sa.exists().where(sa.or_(*wanted)))) or False


def lift_tombstone(identifier: str, *, actor_id, ip_address: str | None) -> int:
    """The explicit act: let an e-mail address or phone number come in again (no commit).

    Returns how many tombstones were lifted (0 when there was none); audited
    without the identifier itself, which the erasure took away.
    """
    kind = EMAIL if "@" in identifier else PHONE
    identifiers = _identifiers(**{kind: identifier})
    if not identifiers:
        return 0
    digests = [_digest(k, v) for k, v in identifiers]
    lifted = db.session.execute(
        sa.delete(ErasureTombstone).where(
            ErasureTombstone.kind == kind, ErasureTombstone.digest.in_(digests)
        )
    ).rowcount
    if lifted:
        record_change(
            "erasure_tombstones",
            None,
            LIFT_ACTION,
            {"kind": kind, "lifted": lifted},
            user_id=actor_id,
            ip_address=ip_address,
        )
    return lifted
