"""ROVIDA and Yardi work orders become dispatched orders, and go back closed with photos.

From the outside: the admin starts the sync through ``POST /api/integrations/<id>/sync``
and the job runs; the technician completes the visit on the phone (``/m/``) after
uploading photos there; the jobs run; the fake provider's work order is closed with
the photos attached. Run again, nothing happens twice.
"""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from app.integrations.sync import run_scheduled_syncs
from app.integrations.work_orders import close_work_order
from app.platform.extensions import db
from app.platform.models import Order, SyncJob, SyncRecord, WorkOrderLink, WorkOrderPhoto
from app.platform.models.enums import ChannelType, OrderSource, OrderStatus
from tests.conftest import opened
from tests.fakes import rovida as rovida_fake
from tests.fakes import yardi as yardi_fake
from tests.fakes.rovida import FakeRovida
from tests.fakes.yardi import FakeYardi
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until
from tests.support.mobile_support import JPEG_HEAD, png_bytes

TECH_EMAIL = "tech@switchboard.test"


@pytest.fixture
def rovida():
    yield from serving(FakeRovida())


@pytest.fixture
def yardi():
    yield from serving(FakeYardi())


@pytest.fixture
def app(make_app, rovida, yardi, tmp_path):
    built = make_app(
        ROVIDA_API_BASE=rovida.url,
        YARDI_API_BASE=yardi.url,
        ATTACHMENTS_DIR=str(tmp_path / "attachments"),
        SYNC_RETRY_BASE_SECONDS=0.01,
    )
    with opened(built) as app:
        yield app


@pytest.fixture
def admin(make_user, auth):
    user = make_user("admin")
    auth.login(user.email)
    return user


@pytest.fixture
def technician(make_user):
    return make_user("technician", email=TECH_EMAIL)


def _headers(auth):
    return {"X-CSRFToken": auth.csrf_token("/integrations/")}


def _create_integration(client, auth, provider: str, api_key: str, **fields):
    answer = client.post(
        "/api/integrations",
        json={"provider": provider, "api_key": api_key, **fields},
        headers=_headers(auth),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["data"]["id"]


def _sync(app, client, auth, integration_id) -> SyncJob:
    started = client.post(
        f"/api/integrations/{integration_id}/sync",
        json={"object_type": "work_orders"},
        headers=_headers(auth),
    )
    assert started.status_code == 202, started.get_json()
    job_id = uuid.UUID(started.get_json()["data"]["id"])

    def ended():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status not in ("pending", "running")

    drain_until(app, ended, timeout=60)
    return db.session.get(SyncJob, job_id)


def _orders() -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Order).order_by(Order.created_at)))


def _phone_photo(client, auth, order, data: bytes, filename: str, caption: str = ""):
    answer = client.post(
        f"/m/visits/{order.id}/photo",
        data={
            "csrf_token": auth.csrf_token("/m/"),
            "photo": (io.BytesIO(data), filename),
            "caption": caption,
        },
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)


def _phone_complete(client, auth, order):
    answer = client.post(
        f"/m/visits/{order.id}/status",
        data={"csrf_token": auth.csrf_token("/m/"), "tap": "completed", "confirmed": "1"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "visit completed" in answer.get_data(as_text=True)


def _switch_to(client, auth, email: str):
    """Sign out whoever is signed in on ``client``, and sign ``email`` in."""
    auth.logout()
    auth.login(email)


def _channels():
    factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    db.session.commit()


# --- ROVIDA: the whole round trip ----------------------------------------------------


def test_rovida_work_order_becomes_a_dispatched_job_and_goes_back_closed_with_photos(
    app, client, auth, make_user, admin, technician, rovida, fake_pdok
):
    _channels()
    rovida.add_work_order("wo_1042", preferred_date="2099-01-15")
    rovida.add_work_order("wo_1043", status="closed")  # done before we knew it: not taken
    integration_id = _create_integration(
        client,
        auth,
        "rovida",
        rovida_fake.API_KEY,
        name="ROVIDA Amsterdam",
        dispatch_technician=TECH_EMAIL.upper(),
    )

    job = _sync(app, client, auth, integration_id)

    assert job.status == "completed", job.error
    assert (job.total_records, job.processed, job.failed) == (2, 2, 0)
    [order] = _orders()
    assert order.source == OrderSource.INTEGRATION
    assert order.status == OrderStatus.SCHEDULED
    assert order.assigned_technician_id == technician.id
    assert order.scheduled_date.isoformat() == "2099-01-15"
    assert order.notes.startswith("Laadpaal doet het niet\n\nDe laadpaal in de garage")
    assert order.partner_external_references["work_order_id"] == "wo_1042"
    assert order.partner_external_references["work_order_number"] == "RV-1042"
    assert order.end_customer.email == "jan.huurder@example.nl"
    assert order.end_customer.display_name == "Jan Huurder"
    assert order.installation_address.street == "Hoofdstraat"
    assert order.installation_address.postal_code == "1012AB"
    assert order.installation_address.validation_state.value == "valid"
    assert not order.needs_review
    assert [t.to_status for t in order.transitions] == ["new", "approved", "scheduled"]
    # The API shows it as any order.
    shown = client.get(f"/api/orders/{order.order_number}").get_json()["data"]
    assert shown["source"] == "integration" and shown["status"] == "scheduled"

    # A second sync finds the order it made: no second order, nothing pushed.
    again = _sync(app, client, auth, integration_id)
    assert again.status == "completed" and len(_orders()) == 1
    assert rovida.requests_to("/close") == [] and rovida.attachments == {}

    # The technician takes two photos on the phone and completes the visit there.
    _switch_to(client, auth, TECH_EMAIL)
    photo = png_bytes()
    _phone_photo(client, auth, order, photo, "meterkast.png", caption="Meterkast na")
    _phone_photo(client, auth, order, JPEG_HEAD + b"rest-of-jpeg", "laadpaal.jpg")
    _phone_complete(client, auth, order)

    def closed():
        return rovida.work_orders["wo_1042"]["status"] == "closed"

    drain_until(app, closed, timeout=30)
    work_order = rovida.work_orders["wo_1042"]
    assert "CC-" in work_order["resolution"] and order.order_number in work_order["resolution"]
    attached = rovida.attachments["wo_1042"]
    assert [a["filename"] for a in attached] == ["meterkast.png", "laadpaal.jpg"]
    assert attached[0]["content"] == photo and attached[0]["content_type"] == "image/png"
    assert attached[0]["description"] == "Meterkast na"
    upload = rovida.requests_to("/attachments", "POST")[0]
    assert upload.headers["X-Api-Key"] == rovida_fake.API_KEY
    assert upload.headers["Idempotency-Key"].startswith("switchboard-")
    link = db.session.scalar(sa.select(WorkOrderLink))
    db.session.refresh(link)
    assert link.closed_at is not None and link.remote_status == "closed"

    # Run the close again, and sync again: nothing is closed or uploaded twice.
    close_work_order(str(link.id))
    _switch_to(client, auth, admin.email)
    _sync(app, client, auth, integration_id)
    drain_queues(app)
    assert rovida.closes == {"wo_1042": 1}
    assert len(rovida.attachments["wo_1042"]) == 2
    assert len(_orders()) == 1


def test_a_failed_close_is_retried_without_uploading_a_photo_twice(
    app, client, auth, admin, technician, rovida, fake_pdok
):
    _channels()
    rovida.add_work_order("wo_7")
    integration_id = _create_integration(
        client, auth, "rovida", rovida_fake.API_KEY, dispatch_technician=TECH_EMAIL
    )
    _sync(app, client, auth, integration_id)
    [order] = _orders()
    _switch_to(client, auth, TECH_EMAIL)
    _phone_photo(client, auth, order, png_bytes(), "voor.png")
    _phone_photo(client, auth, order, png_bytes(5, 5), "na.png")
    link = db.session.scalar(sa.select(WorkOrderLink))
    link_id = str(link.id)

    # The first photo goes up; then ROVIDA falls over for the second one.
    rovida.upload_outage_at = 2
    # Completed through the order API by the technician (their own visit).
    order_now = db.session.get(Order, order.id)
    for status in ("in_progress", "completed"):
        moved = client.post(
            f"/api/orders/{order_now.order_number}/status",
            json={"to_status": status},
            headers={"X-CSRFToken": auth.csrf_token("/m/")},
        )
        assert moved.status_code == 200, moved.get_json()

    drain_queues(app)
    db.session.expire_all()
    link = db.session.get(WorkOrderLink, uuid.UUID(link_id))
    assert link.closed_at is None and "try later" in link.last_error
    assert rovida.work_orders["wo_7"]["status"] == "open"
    assert [a["filename"] for a in rovida.attachments["wo_7"]] == ["voor.png"]
    # RQ tries the job again later (default queue: after 10 s); run it as that retry does.
    close_work_order(link_id)
    db.session.expire_all()
    assert rovida.work_orders["wo_7"]["status"] == "closed"
    assert [a["filename"] for a in rovida.attachments["wo_7"]] == ["voor.png", "na.png"]
    assert rovida.closes == {"wo_7": 1}
    photos = db.session.scalars(sa.select(WorkOrderPhoto.remote_id)).all()
    assert sorted(photos) == ["att_1", "att_2"]


def test_without_a_dispatch_technician_the_order_waits_approved_and_flagged(
    app, client, auth, admin, rovida, fake_pdok
):
    rovida.add_work_order("wo_1", tenant=None)
    integration_id = _create_integration(client, auth, "rovida", rovida_fake.API_KEY)
    _sync(app, client, auth, integration_id)
    [order] = _orders()
    assert order.status == OrderStatus.APPROVED and order.assigned_technician_id is None
    assert order.needs_review
    assert "no dispatch technician is set for the integration" in order.review_reasons


def test_unreadable_work_orders_are_per_record_errors_and_bad_settings_are_refused(
    app, client, auth, admin, rovida, fake_pdok
):
    refused = client.post(
        "/api/integrations",
        json={
            "provider": "rovida",
            "api_key": rovida_fake.API_KEY,
            "dispatch_technician": "nobody@switchboard.test",
        },
        headers=_headers(auth),
    )
    assert refused.status_code == 422
    assert "dispatch_technician" in refused.get_json()["error"]["fields"]

    rovida.add_work_order("wo_2", title=None, description=None)
    rovida.add_work_order("wo_3")
    integration_id = _create_integration(client, auth, "rovida", rovida_fake.API_KEY)
    out = client.post(
        f"/api/integrations/{integration_id}/sync",
        json={"object_type": "work_orders", "direction": "out"},
        headers=_headers(auth),
    )
    assert out.status_code == 422 and "direction" in out.get_json()["error"]["fields"]
    # Named by no one (as _sync does), a work orders sync comes in: API and page alike.
    job = _sync(app, client, auth, integration_id)
    assert job.direction == "in"
    assert job.status == "completed_with_errors"
    assert (job.succeeded, job.failed) == (1, 1)
    failed = db.session.scalar(sa.select(SyncRecord).where(SyncRecord.status == "failed"))
    assert failed.remote_id == "wo_2" and "no title or description" in failed.last_error
    assert len(_orders()) == 1


# --- Yardi: the same, in its service-request format -----------------------------------


def test_yardi_service_request_round_trip(app, client, auth, admin, technician, yardi, fake_pdok):
    _channels()
    yardi.add_service_request("4711")
    yardi.add_service_request("4712", CurrentStatus="Completed")
    integration_id = _create_integration(
        client, auth, "yardi", yardi_fake.TOKEN, dispatch_technician=TECH_EMAIL
    )

    job = _sync(app, client, auth, integration_id)

    assert job.status == "completed", job.error
    [order] = _orders()
    assert order.status == OrderStatus.SCHEDULED
    assert order.assigned_technician_id == technician.id
    assert order.partner_external_references["work_order_id"] == "4711"
    assert order.installation_address.house_number == "123"
    assert order.installation_address.validation_state.value == "valid"
    assert order.end_customer.email == "petra.bewoner@example.nl"
    assert order.notes.startswith("Laadpaal laadt niet")

    _switch_to(client, auth, TECH_EMAIL)
    photo = png_bytes()
    _phone_photo(client, auth, order, photo, "na.png")
    _phone_complete(client, auth, order)
    drain_until(
        app, lambda: yardi.service_requests["4711"]["CurrentStatus"] == "Work Completed", 30
    )
    [document] = yardi.documents["4711"]
    assert document["FileName"] == "na.png" and document["content"] == photo
    assert yardi.status_edits == {"4711": ["Work Completed"]}

    link = db.session.scalar(sa.select(WorkOrderLink))
    close_work_order(str(link.id))
    _switch_to(client, auth, admin.email)
    _sync(app, client, auth, integration_id)
    drain_queues(app)
    assert yardi.status_edits == {"4711": ["Work Completed"]}
    assert len(yardi.documents["4711"]) == 1
    assert len(_orders()) == 1


# --- the settings page ------------------------------------------------------------------


def test_the_settings_page_sets_the_dispatch_technician(
    app, client, auth, admin, technician, rovida
):
    integration_id = _create_integration(client, auth, "rovida", rovida_fake.API_KEY)
    page = client.get(f"/integrations/{integration_id}")
    assert 'data-testid="dispatch-technician"' in page.get_data(as_text=True)
    token = auth.csrf_token(f"/integrations/{integration_id}")
    form = {"csrf_token": token, "form": "settings", "name": "ROVIDA", "status": "active"}

    refused = client.post(
        f"/integrations/{integration_id}",
        data={**form, "dispatch_technician": "nobody@switchboard.test"},
    )
    assert refused.status_code == 422
    assert "must be the e-mail address of an active technician" in refused.get_data(as_text=True)
    saved = client.post(
        f"/integrations/{integration_id}", data={**form, "dispatch_technician": TECH_EMAIL}
    )
    assert saved.status_code == 303
    shown = client.get(f"/api/integrations/{integration_id}").get_json()["data"]
    assert shown["config"]["dispatch_technician"] == TECH_EMAIL


def test_a_scheduled_sync_pulls_the_work_orders_in(app, rovida, technician, fake_pdok):
    rovida.add_work_order("wo_9")
    factories.integration(
        "rovida",
        credentials={"api_key": rovida_fake.API_KEY},
        sync_frequency="hourly",
        config={"dispatch_technician": TECH_EMAIL},
    )
    db.session.commit()

    [job_id] = run_scheduled_syncs()

    job = db.session.get(SyncJob, uuid.UUID(job_id))
    assert (job.object_type, job.direction) == ("work_orders", "in")
    drain_until(app, lambda: len(_orders()) == 1, timeout=60)
    assert _orders()[0].status == OrderStatus.SCHEDULED
