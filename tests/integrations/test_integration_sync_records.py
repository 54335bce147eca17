"""Per-record sync errors and notes in ``GET /api/integrations/<id>/sync``.

A real inbound contacts sync against the fake HubSpot leaves records failed
(no e-mail, which the mapping requires) and one synced with a note (its phone
already another contact's); the API lists both kinds, paged, and the sync
job's page shows the note beside the errors.
"""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from app.conversations.contacts.identities import claim_addresses_of
from app.platform.extensions import db
from app.platform.models import Contact, SyncJob
from tests.conftest import opened
from tests.fakes.hubspot import TOKEN, FakeHubSpot
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_until

WRITER_PHONE = "+31687654321"


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def app(make_app, hubspot):
    with opened(make_app(HUBSPOT_API_BASE=hubspot.url, SYNC_RETRY_BASE_SECONDS=0.01)) as app:
        yield app


@pytest.fixture
def synced(app, client, auth, make_user, hubspot):
    """A finished contacts sync with two failed records and one noted one."""
    integration = factories.integration(
        "hubspot", credentials={"access_token": TOKEN, "expires_at": time.time() + 3600}
    )
    writer = factories.contact(display_name="Schrijver", phone=WRITER_PHONE, email=None)
    claim_addresses_of(writer)
    db.session.commit()
    hubspot.add("contacts", {"email": "jan@example.nl", "firstname": "Jan"})
    hubspot.add("contacts", {"firstname": "Zonder", "lastname": "Mail"})
    noted = hubspot.add(
        "contacts", {"email": "collega@example.nl", "firstname": "Col", "phone": "0687654321"}
    )
    hubspot.add("contacts", {"firstname": "Ook", "lastname": "Zonder"})
    admin = make_user("admin")
    auth.login(admin.email)
    started = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "contacts", "direction": "in"},
        headers={"X-CSRFToken": auth.csrf_token("/integrations/")},
    )
    assert started.status_code == 202, started.get_json()
    job_id = uuid.UUID(started.get_json()["data"]["id"])

    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status not in ("pending", "running")

    drain_until(app, ended, timeout=60)
    return integration, db.session.get(SyncJob, job_id), writer, noted


def test_failed_records_and_notes_are_listed_with_their_ids_and_job(client, synced):
    integration, job, writer, noted = synced
    assert (job.status, job.succeeded, job.failed) == ("completed_with_errors", 2, 2)
    answer = client.get(f"/api/integrations/{integration.id}/sync")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [j["id"] for j in body["data"]] == [str(job.id)]
    assert (body["data"][0]["failed"], body["data"][0]["succeeded"]) == (2, 2)

    failed = body["failed_records"]["data"]
    assert body["failed_records"]["next_before"] is None
    assert sorted(r["remote_id"] for r in failed) == ["502", "504"]
    for record in failed:
        assert record["local_id"] == f"remote:{record['remote_id']}"
        assert record["status"] == "failed"
        assert "email" in record["error"]
        assert record["job_id"] == str(job.id) and record["attempts"] == 1
        assert record["object_type"] == "contacts"
        assert "note" not in record

    [note] = body["notes"]["data"]
    synced_contact = db.session.scalar(
        sa.select(Contact).where(Contact.email == "collega@example.nl")
    )
    assert (note["local_id"], note["remote_id"], note["status"]) == (
        str(synced_contact.id),
        noted["id"],
        "synced",
    )
    assert note["note"] == (
        f"phone {WRITER_PHONE} already belongs to contact {writer.id}; left with that contact"
    )
    assert note["job_id"] == str(job.id) and note["attempts"] == 1 and note["synced_at"]
    # The cleanly synced contact is in neither list.
    listed = {r["remote_id"] for r in failed} | {note["remote_id"]}
    assert "501" not in listed


def test_the_records_page_by_cursor_and_narrow_to_a_job(client, synced):
    integration, job, _, _ = synced
    path = f"/api/integrations/{integration.id}/sync"
    first = client.get(f"{path}?limit=1").get_json()["failed_records"]
    assert len(first["data"]) == 1 and first["next_before"] == first["data"][0]["id"]
    second = client.get(f"{path}?limit=1&failed_before={first['next_before']}").get_json()
    rest = second["failed_records"]
    assert len(rest["data"]) == 1 and rest["next_before"] is None
    assert {first["data"][0]["remote_id"], rest["data"][0]["remote_id"]} == {"502", "504"}
    # The notes list pages on its own cursor.
    assert len(second["notes"]["data"]) == 1

    only_job = client.get(f"{path}?job_id={job.id}").get_json()
    assert len(only_job["failed_records"]["data"]) == 2
    for query, field in (
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("failed_before=nope", "failed_before"),
        (f"notes_before={uuid.uuid4()}", "notes_before"),
        (f"job_id={uuid.uuid4()}", "job_id"),
        ("job_id=nope", "job_id"),
    ):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 422, query
        assert field in answer.get_json()["error"]["fields"], query


def test_the_sync_job_page_shows_the_notes_beside_the_errors(client, synced):
    integration, job, writer, _ = synced
    page = client.get(f"/integrations/{integration.id}/sync/{job.id}").get_data(as_text=True)
    assert 'data-testid="sync-errors"' in page
    assert 'data-testid="sync-notes"' in page
    assert f"already belongs to contact {writer.id}" in page


def test_non_admins_are_refused(client, auth, make_user, synced):
    integration = synced[0]
    auth.logout()
    assert client.get(f"/api/integrations/{integration.id}/sync").status_code == 401
    auth.login(make_user("manager").email)
    assert client.get(f"/api/integrations/{integration.id}/sync").status_code == 403
