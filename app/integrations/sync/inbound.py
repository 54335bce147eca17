"""Inbound sync: paging through a provider's records into local contacts.

Only contacts come in. The provider is asked for the fields the mappings
read, within the integration's sync settings (the connector says them in its
provider's terms). Each page commits with the cursor of the next, so a run
that stops half-way resumes at the page after its last committed one.

A remote record the provider lists as deleted or archived is never created
or resurrected here: its sync state becomes ``archived`` and a contact synced
from it earlier is kept as it is (deleting people is the GDPR flow's job, not
a sync's). Restored at the provider, it syncs again as before. A person erased
here is never synced back (:mod:`app.conversations.gdpr.tombstones`).

 A remote record is matched by its remote id from an earlier run, then
by e-mail (its identity, else a contact's own field), else created; a record
the mappings cannot read is kept as failed under ``remote:<id>`` and the run
goes on. A synced contact's phone and e-mail become its identities, so a
WhatsApp message or e-mail from them reaches this contact; an address that is
already another contact's stays theirs, noted on the record's sync state.
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from app.conversations.contacts.identities import (
    EMAIL,
    HeldAddress,
    claim_addresses_of,
    known_contact,
)
from app.conversations.gdpr.tombstones import is_erased
from app.integrations.connectors import ConnectorError
from app.integrations.sync.mappings import MappingError, build_inbound
from app.integrations.sync.records import (
    LISTED_ALL,
    MAX_ATTEMPTS,
    SyncRun,
    backoff,
    cancel_requested,
    mark_failed,
    sync_record,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Contact, Integration, SyncRecord

SYNCED, FAILED, ARCHIVED, ERASED = "synced", "failed", "archived", "erased"


def pull_all(run: SyncRun) -> bool:
    """Page through the provider's records into local contacts; True when cancelled.

    Starts at the job's committed cursor: the first page, or where a run that
    stopped half-way left off.
    """
    job = run.job
    cursor = job.cursor
    if cursor == LISTED_ALL:
        return False
    while True:
        if cancel_requested(job):
            return True
        records, cursor = _list_page(run, job.object_type, cursor)
        job.total_records += len(records)
        for remote in records:
            outcome = _pull_one(run, job.object_type, remote)
            job.processed += 1
            job.succeeded += outcome == SYNCED
            job.failed += outcome == FAILED
            job.archived += outcome == ARCHIVED
        job.cursor = cursor or LISTED_ALL
        run.commit_batch()
        if not cursor:
            return False


def _list_page(run: SyncRun, object_type: str, cursor: str | None):
    fields = [spec.remote_field for spec in run.mappings(object_type) if spec.applies("in")]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return run.connector.list_remote(object_type, cursor, fields, run.scope)
        except ConnectorError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(backoff(attempt, exc.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


# Local field → Contact attribute, for inbound upserts.
CONTACT_ATTRIBUTES = {
    "contact.name": "display_name",
    "contact.first_name": "first_name",
    "contact.last_name": "last_name",
    "contact.email": "email",
    "contact.phone": "phone",
    "contact.job_title": "job_title",
}


def _pull_one(run: SyncRun, object_type: str, remote: dict) -> str:
    """Upsert one remote record as a Contact: by remote id, then by e-mail.

    Returns how it went: SYNCED, FAILED or ARCHIVED.
    """
    remote_id = run.connector.remote_id_of(remote)
    if not remote_id:
        return FAILED
    if run.connector.is_archived(remote):
        _mark_archived(run, object_type, remote_id)
        return ARCHIVED
    left_out: dict[str, str] = {}
    try:
        values = build_inbound(run.mappings(object_type), remote, left_out)
    except MappingError as exc:
        state = sync_record(run.integration, object_type, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
        state.attempts = 1  # one try, as a synced record counts it
        mark_failed(state, run.job, str(exc))
        return FAILED
    contact = apply_remote_contact(
        run.integration, object_type, remote_id, values, run.job.id, left_out
    )
    return SYNCED if contact is not None else ERASED


def apply_remote_contact(
    integration: Integration,
    object_type: str,
    remote_id: str,
    values: dict,
    sync_job_id: uuid.UUID | None = None,
    left_out: dict[str, str] | None = None,
) -> Contact | None:
    """Upsert the contact of one remote record from its mapped ``values`` (no commit).

    The contact synced from ``remote_id`` before, else the one with its
    e-mail, else a new one; the record's sync state says it is synced, with a
    note naming what was ``left_out`` (remote field → why) or left with another
    contact. Shared by the paged pull and by provider messages that carry the
    record itself (Salesforce's outbound messages), with no job then.

    A record of a person erased here (GDPR) is not synced: None, and the sync
    state says so. Only an admin lifting the tombstone lets it in again.
    """
    if is_erased(
        email=values.get("contact.email"),
        phone=values.get("contact.phone"),
        remote=(integration.id, object_type, remote_id),
    ):
        _mark_erased(integration, object_type, remote_id, sync_job_id)
        return None
    state = db.session.scalar(
        sa.select(SyncRecord).where(
            SyncRecord.integration_id == integration.id,
            SyncRecord.object_type == object_type,
            SyncRecord.remote_id == remote_id,
            SyncRecord.status == "synced",
        )
    )
    contact = db.session.get(Contact, uuid.UUID(state.local_id)) if state else None
    email = (values.get("contact.email") or "").strip().lower() or None
    if contact is None and email:
        contact = known_contact(EMAIL, email)
    if contact is None:
        contact = Contact(display_name="")
        db.session.add(contact)
    for local_field, attribute in CONTACT_ATTRIBUTES.items():
        if values.get(local_field) not in (None, ""):
            setattr(contact, attribute, values[local_field])
    if not (contact.display_name or "").strip():
        names = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        contact.display_name = names or contact.email or f"{object_type} {remote_id}"
    db.session.flush()
    held = claim_addresses_of(contact)
    state = state or sync_record(integration, object_type, str(contact.id))
    state.remote_id = remote_id
    state.status = "synced"
    # Synced all the same: the note says what did not come across, and why
    # messages from an address reach someone else.
    notes = [f"{field} {why}; left out" for field, why in (left_out or {}).items()]
    notes += [_held_note(held)] if held else []
    state.last_error = "; ".join(notes) or None
    state.attempts = 1
    state.synced_at = utcnow()
    if sync_job_id is not None:
        state.last_sync_job_id = sync_job_id
    return contact


def _mark_erased(
    integration: Integration, object_type: str, remote_id: str, sync_job_id: uuid.UUID | None
) -> None:
    """Note that ``remote_id`` is an erased person's record; touch no contact."""
    state = db.session.scalar(
        sa.select(SyncRecord)
        .where(
            SyncRecord.integration_id == integration.id,
            SyncRecord.object_type == object_type,
            SyncRecord.remote_id == remote_id,
        )
        .order_by(SyncRecord.created_at)
        .limit(1)
    )
    if state is None:
        state = sync_record(integration, object_type, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
    state.status = ERASED
    state.last_error = "erased here (GDPR): not synced until an admin lets it in again"
    state.attempts = 1
    state.synced_at = utcnow()
    if sync_job_id is not None:
        state.last_sync_job_id = sync_job_id


def _mark_archived(run: SyncRun, object_type: str, remote_id: str) -> None:
    """Note that the provider deleted or archived ``remote_id``; touch no contact."""
    state = db.session.scalar(
        sa.select(SyncRecord)
        .where(
            SyncRecord.integration_id == run.integration.id,
            SyncRecord.object_type == object_type,
            SyncRecord.remote_id == remote_id,
        )
        .order_by((SyncRecord.status == "synced").desc(), SyncRecord.created_at)
        .limit(1)
    )
    if state is None:
        state = sync_record(run.integration, object_type, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
    state.status = ARCHIVED
    state.last_error = (
        "deleted or archived at the provider: not synced; a contact synced from it "
        "earlier is kept as it is"
    )
    state.attempts = 1
    state.synced_at = utcnow()
    state.last_sync_job_id = run.job.id


def _held_note(held: list[HeldAddress]) -> str:
    return "; ".join(
        f"{h.kind} {h.address} already belongs to contact {h.owner_id}; left with that contact"
        for h in held
    )
