"""A sync that fails half-way resumes from its last committed batch.

The fake HubSpot fails on page 3 (500, past the job's own retries) and then
recovers; resuming the job through the API asks for page 3's cursor, never
page 1 again, and the totals come out right. Outbound, a run stopped in its
third batch pushes only the records its committed batches had not.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from app.integrations.sync import LISTED_ALL
from app.platform.extensions import db
from app.platform.models import Contact, SyncJob, SyncRecord
from tests.conftest import opened
from tests.fakes.hubspot import TOKEN, FakeHubSpot
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_until

CONTACTS = "/crm/v3/objects/contacts"
HUBSPOT_DOWN = {"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def app(make_app, hubspot):
    with opened(make_app(HUBSPOT_API_BASE=hubspot.url, SYNC_RETRY_BASE_SECONDS=0.01)) as app:
        yield app


@pytest.fixture
def admin(client, auth, make_user):
    user = make_user("admin")
    auth.login(user.email)
    return auth.csrf_token("/integrations/")


def _integration():
    integration = factories.integration(
        "hubspot",
        credentials={"access_token": TOKEN, "expires_at": time.time() + 3600},
        batch_size=2,
    )
    db.session.commit()
    return integration


def _until_ended(app, job_id) -> SyncJob:
    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status not in ("pending", "running")

    drain_until(app, ended, timeout=60)
    return db.session.get(SyncJob, job_id)


def _job_json(client, integration, job_id) -> dict:
    jobs = client.get(f"/api/integrations/{integration.id}/sync").get_json()["data"]
    return next(j for j in jobs if j["id"] == str(job_id))


@pytest.mark.parametrize("failure", ["http_500", "timeout"])
def test_a_sync_failing_on_page_3_resumes_from_page_3_s_cursor(
    app, client, admin, hubspot, failure, monkeypatch
):
    integration = _integration()
    records = [hubspot.add("contacts", {"email": f"k{n}@example.nl"}) for n in range(7)]
    page_3 = records[3]["id"]  # pages of two: page 3 comes after the fourth record

    def asks_page_3(request) -> bool:
        if request.method != "GET" or request.args.get("after") != page_3:
            return False
        if failure == "timeout":
            time.sleep(0.6)  # answered after the connector gave up waiting
        return True

    if failure == "timeout":
        monkeypatch.setattr("app.integrations.connectors.base.TIMEOUT", (5, 0.3))
    # HubSpot fails page 3 as often as the job retries a call, then recovers.
    hubspot.answer_when(asks_page_3, 500, HUBSPOT_DOWN, times=3)
    started = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "contacts", "direction": "in"},
        headers={"X-CSRFToken": admin},
    )
    assert started.status_code == 202
    job_id = uuid.UUID(started.get_json()["data"]["id"])

    failed = _until_ended(app, job_id)
    assert failed.status == "failed"
    assert ("timed out" if failure == "timeout" else "internal error") in failed.error
    assert (failed.processed, failed.succeeded, failed.cursor) == (4, 4, page_3)
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 4
    shown = _job_json(client, integration, job_id)
    assert shown["cursor"] == page_3 and shown["status"] == "failed"

    if failure == "timeout":
        # The fake answers the calls the connector gave up on one by one, late.
        deadline = time.monotonic() + 10
        while len(hubspot.requests_to(CONTACTS, "GET")) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.7)
    hubspot.requests.clear()
    resumed = client.post(
        f"/api/integrations/{integration.id}/sync/{job_id}/resume",
        headers={"X-CSRFToken": admin},
    )
    assert resumed.status_code == 202, resumed.get_json()
    job = _until_ended(app, job_id)

    asked = [r.args.get("after") for r in hubspot.requests_to(CONTACTS, "GET")]
    assert asked == [page_3, records[5]["id"]]  # page 3, then page 4; never page 1 again
    assert job.status == "completed"
    assert (job.total_records, job.processed, job.succeeded, job.failed) == (7, 7, 7, 0)
    assert (job.runs, job.resumed_at_record, job.cursor) == (2, 4, LISTED_ALL)
    emails = db.session.scalars(sa.select(Contact.email)).all()
    assert sorted(emails) == sorted(f"k{n}@example.nl" for n in range(7))
    assert db.session.scalar(sa.select(sa.func.count(SyncRecord.id))) == 7
    assert db.session.get(type(integration), integration.id).records_synced == 7

    shown = _job_json(client, integration, job_id)
    assert (shown["resumed_at_record"], shown["runs"], shown["processed"]) == (4, 2, 7)
    page = client.get(f"/integrations/{integration.id}/sync/{job_id}").get_data(as_text=True)
    assert "Resumed at record 5" in page  # records 1-4 done before
    history = client.get(f"/integrations/{integration.id}/sync").get_data(as_text=True)
    assert "(resumed at record 5)" in history

    # Only a failed job resumes; another integration's job is not found.
    again = client.post(
        f"/api/integrations/{integration.id}/sync/{job_id}/resume",
        headers={"X-CSRFToken": admin},
    )
    assert again.status_code == 422 and "job" in again.get_json()["error"]["fields"]
    other = _integration()
    missing = client.post(
        f"/api/integrations/{other.id}/sync/{job_id}/resume", headers={"X-CSRFToken": admin}
    )
    assert missing.status_code == 404


def test_an_outbound_sync_resumed_from_the_page_pushes_no_record_twice(
    app, client, admin, auth, hubspot
):
    integration = _integration()
    for n in range(6):
        factories.contact(display_name=f"Klant {n}", email=f"uit{n}@example.nl")
    db.session.commit()
    # The token is refused in the third batch (the fifth contact): the run stops there.
    hubspot.answer_when(
        lambda r: r.method == "POST" and b"uit4@example.nl" in r.body,
        401,
        {"status": "error", "message": "expired", "category": "INVALID_AUTHENTICATION"},
    )
    started = client.post(
        f"/api/integrations/{integration.id}/sync",
        json={"object_type": "contacts", "direction": "out"},
        headers={"X-CSRFToken": admin},
    )
    job_id = uuid.UUID(started.get_json()["data"]["id"])
    failed = _until_ended(app, job_id)
    assert (failed.status, failed.processed) == ("failed", 4)

    page = f"/integrations/{integration.id}/sync/{job_id}"
    assert 'data-testid="resume-sync"' in client.get(page).get_data(as_text=True)
    answer = client.post(f"{page}/resume", data={"csrf_token": auth.csrf_token(page)})
    assert answer.status_code == 303
    job = _until_ended(app, job_id)

    assert (job.status, job.total_records, job.processed, job.succeeded) == ("completed", 6, 6, 6)
    creates = Counter(
        r.json()["properties"]["email"] for r in hubspot.requests_to(CONTACTS, "POST")
    )
    # Each pushed once; the refused one again on resuming, its batch never committed.
    assert creates == Counter({f"uit{n}@example.nl": 1 for n in range(6)} | {"uit4@example.nl": 2})
    assert len(hubspot.records["contacts"]) == 6
