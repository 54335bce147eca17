"""Migrations that move data, run on whichever database the suite uses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import ApiUsageLog, AuditLog, CommunicationThread, Contact, ContactIdentity
from app.platform.models.enums import ContactType


def test_0007_sums_the_per_request_usage_log_into_daily_rows(app):
    downgrade(revision="0006")
    try:
        insert = sa.text(
            "INSERT INTO api_usage_logs (id, created_at, updated_at, method, endpoint, path, "
            "status_code, duration_ms) VALUES (:id, :at, :at, :method, :endpoint, :endpoint, "
            ":status, :ms)"
        ).bindparams(
            sa.bindparam("id", type_=sa.Uuid()),
            sa.bindparam("at", type_=sa.DateTime(timezone=True)),
        )
        for at, method, endpoint, status, ms in (
            (datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), "POST", "/api/v1/a", 200, 10.0),
            (datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc), "POST", "/api/v1/a", 500, 30.0),
            (datetime(2026, 11, 21, 0, 1, tzinfo=timezone.utc), "POST", "/api/v1/a", 201, 5.0),
            (datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc), "GET", "/api/v1/a", 200, 1.0),
        ):
            db.session.execute(
                insert,
                {
                    "id": uuid.uuid4(),
                    "at": at,
                    "method": method,
                    "endpoint": endpoint,
                    "status": status,
                    "ms": ms,
                },
            )
        db.session.commit()
    finally:
        upgrade()

    rows = db.session.scalars(
        sa.select(ApiUsageLog).order_by(ApiUsageLog.day, ApiUsageLog.method)
    ).all()
    assert [
        (str(r.day), r.method, r.request_count, r.success_count, r.total_duration_ms) for r in rows
    ] == [
        ("2026-11-20", "POST", 2, 1, 40.0),
        ("2026-11-21", "GET", 1, 1, 1.0),
        ("2026-11-21", "POST", 1, 1, 5.0),
    ]


def test_0008_merges_contacts_that_share_an_address_and_gives_each_address_one_owner(app):
    downgrade(revision="0007")
    try:
        start = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
        ages = iter(range(10))

        def person(**fields):
            return _contact_at_0007(created_at=start + timedelta(minutes=next(ages)), **fields)

        first_id = person(phone="+31611111111", email=None)
        twin_id = person(phone="+31611111111", email=None)  # the race's second contact
        jan_id = person(phone=None, email="jan@example.nl")
        jan_again_id = person(phone="+31622222222", email="Jan@Example.nl")
        desk_id = _contact_at_0007(
            contact_type=ContactType.ORGANIZATION, phone="+31611111111", email="desk@partner.nl"
        )
        twin_thread_id = _thread_at_0007(twin_id)
        jan_thread_id = _thread_at_0007(jan_again_id)
        db.session.commit()
    finally:
        db.session.remove()
        upgrade()

    remaining = {c.id for c in db.session.scalars(sa.select(Contact))}
    assert remaining == {first_id, jan_id, desk_id}
    assert db.session.get(CommunicationThread, twin_thread_id).contact_id == first_id
    assert db.session.get(CommunicationThread, jan_thread_id).contact_id == jan_id
    # The survivor keeps what the merged contact knew and it lacked.
    assert db.session.get(Contact, jan_id).phone == "+31622222222"
    owners = {
        (i.kind, i.address): i.contact_id for i in db.session.scalars(sa.select(ContactIdentity))
    }
    assert owners == {
        ("phone", "+31611111111"): first_id,
        ("email", "jan@example.nl"): jan_id,
        ("phone", "+31622222222"): jan_id,
        ("email", "desk@partner.nl"): desk_id,
    }
    merges = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "merge").order_by(AuditLog.record_id)
    ).all()
    assert sorted((m.record_id, tuple(m.changes["merged_contact_ids"])) for m in merges) == sorted(
        [(first_id, (str(twin_id),)), (jan_id, (str(jan_again_id),))]
    )


def _thread_at_0007(contact_id: uuid.UUID) -> uuid.UUID:
    """A thread as the 0007 schema holds it: a Core insert names only the columns it
    is given or that have defaults, so columns added by later migrations stay out."""
    thread_id = uuid.uuid4()
    db.session.execute(
        sa.insert(CommunicationThread.__table__).values(
            id=thread_id, thread_subject="Vraag", contact_id=contact_id
        )
    )
    return thread_id


def _contact_at_0007(**fields) -> uuid.UUID:
    """A contact as the 0007 schema holds it (a Core insert, as for threads above)."""
    contact_id = uuid.uuid4()
    db.session.execute(
        sa.insert(Contact.__table__).values(id=contact_id, display_name="Klant", **fields)
    )
    return contact_id
