"""The customer's photos before the visit, from their page to the desk, the board and the phone.

From outside: the customer posts the page's own form (signed out, with the page's
CSRF token), the stored file is read back from ``ATTACHMENTS_DIR``, the desk and
the technicians open what their pages link to, and the message asking for another
photo is read from the sandbox's record of what was sent.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from PIL import ExifTags, Image

from app.conversations.gdpr.erasure import erase_contact
from app.orders.core.customer_links import customer_link_url
from app.orders.customer_page.review import send_photo_ask
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CustomerPhoto, Order, SandboxSend
from app.platform.models.enums import OrderStatus
from app.platform.models.planning import METER_BOX
from app.platform.transactions import commit
from tests.conftest import opened
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number, two_visits

LINK = re.compile(r"http://127\.0\.0\.1:5000/t/([\w-]{22})\b")
HTMX = {"HX-Request": "true"}
# Utrecht, as a phone's camera writes it.
LATITUDE, LONGITUDE = (52.0, 5.0, 27.36), (5.0, 7.0, 17.88)


def photo_jpeg(width: int = 640, height: int = 480, *, gps: bool = True) -> bytes:
    """A JPEG as a phone sends it: EXIF with the camera, the time and (by default) the place."""
    image = Image.new("RGB", (width, height), (40, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.DateTime] = "2026:11:28 10:15:00"
    if gps:
        place = exif.get_ifd(ExifTags.IFD.GPSInfo)
        place[ExifTags.GPS.GPSLatitudeRef] = "N"
        place[ExifTags.GPS.GPSLatitude] = LATITUDE
        place[ExifTags.GPS.GPSLongitudeRef] = "E"
        place[ExifTags.GPS.GPSLongitude] = LONGITUDE
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def _scheduled(number: str = "CC-2026-00101"):
    """An order with a charger on its lines, planned for a day ahead, and its link's token."""
    order = approved_order(number)
    order.status = OrderStatus.SCHEDULED
    order.scheduled_date = working_day(7)
    db.session.commit()
    token = LINK.search(customer_link_url(order))[1]
    db.session.commit()
    return order, token


def _send(client, token: str, kind: str, data: bytes, name: str = "IMG_0001.jpg", headers=None):
    page = client.get(f"/t/{token}").get_data(as_text=True)
    if 'name="csrf_token"' not in page:  # no form on the page: the session's token all the same
        page = client.get("/login").get_data(as_text=True)
    return client.post(
        f"/t/{token}/photos/{kind}",
        data={"csrf_token": csrf_token_from(page), "photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _photos(order) -> list[CustomerPhoto]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CustomerPhoto)
        .where(CustomerPhoto.order_id == order.id)
        .order_by(CustomerPhoto.uploaded_at)
    ).all()


def _stored(app, photo: CustomerPhoto) -> bytes:
    return (Path(app.config["ATTACHMENTS_DIR"]) / photo.path).read_bytes()


def _all_files(app) -> set[Path]:
    """Every file in the attachments folder (it outlives one test: compare before and after)."""
    root = Path(app.config["ATTACHMENTS_DIR"])
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _state(page: str, kind: str) -> str:
    match = re.search(rf'data-testid="photo-{kind}" data-state="(\w+)"', page)
    assert match, kind
    return match[1]


def test_a_photo_with_its_place_in_exif_is_kept_without_it(app, client):
    order, token = _scheduled()
    sent = photo_jpeg()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    answer = _send(client, token, "meter_cupboard", sent)

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/t/{token}#photo-meter_cupboard")
    [photo] = _photos(order)
    kept = _stored(app, photo)
    assert photo.kind == "meter_cupboard" and photo.status == "received"
    assert photo.content_type == "image/jpeg" and photo.size == len(kept)
    image = Image.open(io.BytesIO(kept))
    image.load()
    assert image.format == "JPEG" and image.size == (640, 480)
    assert not image.getexif()  # no EXIF at all: no place, no camera, no time
    assert b"Exif" not in kept and b"GPS" not in kept and b"Phone" not in kept
    assert "exif" not in image.info and "xmp" not in image.info


def test_a_png_is_kept_without_its_exif_chunk(app, client):
    order, token = _scheduled()
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = LATITUDE
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(out, "PNG", exif=exif)
    assert b"eXIf" in out.getvalue()

    assert _send(client, token, "main_fuse", out.getvalue(), "zekering.png").status_code == 303

    [photo] = _photos(order)
    kept = _stored(app, photo)
    assert photo.content_type == "image/png" and b"eXIf" not in kept
    assert not Image.open(io.BytesIO(kept)).getexif()


def test_a_file_that_is_no_image_is_refused_by_its_field_and_nothing_is_kept(app, client):
    order, token = _scheduled()

    before = _all_files(app)
    answer = _send(client, token, "meter_cupboard", b"%PDF-1.7 a contract, not a photo")

    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'id="photo-error-meter_cupboard"' in page
    assert 'aria-describedby="photo-error-meter_cupboard"' in page
    assert "Dit bestand is geen foto." in page
    assert _photos(order) == [] and _all_files(app) == before


def test_a_photo_over_the_limit_is_refused_and_nothing_is_kept(app, client):
    order, token = _scheduled()
    huge = photo_jpeg() + b"\0" * (10 * 1024 * 1024 + 70 * 1024)

    before = _all_files(app)
    answer = _send(client, token, "meter_cupboard", huge)

    assert answer.status_code == 413
    assert "De foto is groter dan de limiet van 10 MB." in answer.get_data(as_text=True)
    assert _photos(order) == [] and _all_files(app) == before


def test_a_truncated_jpeg_is_refused_as_unreadable(app, client):
    order, token = _scheduled()
    whole = photo_jpeg(1200, 900)

    before = _all_files(app)
    answer = _send(client, token, "charger_spot", whole[: len(whole) // 2])

    assert answer.status_code == 422
    assert "We konden deze foto niet lezen" in answer.get_data(as_text=True)
    assert _photos(order) == [] and _all_files(app) == before


def test_a_heic_photo_is_refused_with_a_request_for_a_jpeg(app, client):
    order, token = _scheduled()
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200

    answer = _send(client, token, "cable_route", heic, "IMG_0002.HEIC")

    assert answer.status_code == 422
    assert "een JPEG sturen" in answer.get_data(as_text=True)
    assert _photos(order) == []


def test_the_checklist_shows_each_photo_s_state_and_a_photo_is_replaced_not_lost(
    app, client, auth, make_user
):
    order, token = _scheduled()
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Foto's voor de monteur" in page
    kinds = ("meter_cupboard", "main_fuse", "charger_spot", "cable_route")
    assert [_state(page, kind) for kind in kinds] == ["needed"] * 4
    assert page.count('accept="image/*" capture="environment"') == 4
    assert "/static/img/customer-photos/meter_cupboard.svg" in page

    # With htmx the item alone comes back, its state said.
    item = _send(client, token, "meter_cupboard", photo_jpeg(), headers=HTMX)
    assert item.status_code == 200
    body = item.get_data(as_text=True)
    assert body.lstrip().startswith('<li class="cp-photo cp-photo-received"')
    assert "Ontvangen" in body and "<html" not in body
    first = _photos(order)[0]

    assert _send(client, token, "meter_cupboard", photo_jpeg(800, 600)).status_code == 303
    old, new = _photos(order)
    assert old.id == first.id and old.superseded_at is not None and new.superseded_at is None
    assert Image.open(io.BytesIO(_stored(app, new))).size == (800, 600)
    assert _stored(app, old)  # the replaced photo is kept

    planner = make_user("team_lead", language="nl")
    auth.login(planner.email)
    panel = client.get(f"/orders/{order.order_number}/customer-photos").get_data(as_text=True)
    token_desk = csrf_token_from(panel)
    review = f"/orders/{order.order_number}/customer-photos/{new.id}/review"
    client.post(review, data={"csrf_token": token_desk, "decision": "approve"})
    auth.logout()
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert _state(page, "meter_cupboard") == "approved" and "In orde" in page
    assert _state(page, "main_fuse") == "needed" and "Nog nodig" in page


def test_a_return_visit_for_the_meter_box_asks_for_the_cupboard_and_fuse_only(
    app, client, make_user
):
    order, token = _scheduled()
    planner, tech = make_user("team_lead", language="nl"), make_user("technician", skills=["alfen"])
    two_visits(order, [tech], working_day(7), working_day(14), planner, purpose=METER_BOX)
    drain_queues(app)
    order = db.session.get(Order, order.id)
    first = next(v for v in order.visits if v.number == 1)
    first.completed_at = utcnow()
    db.session.commit()

    page = client.get(f"/t/{token}").get_data(as_text=True)

    assert 'data-testid="photo-meter_cupboard"' in page and 'data-testid="photo-main_fuse"' in page
    assert 'data-testid="photo-charger_spot"' not in page
    assert _send(client, token, "charger_spot", photo_jpeg()).status_code == 404


def test_the_desk_and_the_visit_s_technicians_see_the_photos_others_do_not(
    app, client, auth, make_user
):
    tech, other = make_user("technician"), make_user("technician")
    order = visit(tech)
    token = LINK.search(customer_link_url(order))[1]
    db.session.commit()
    assert _send(client, token, "meter_cupboard", photo_jpeg()).status_code == 303
    [photo] = _photos(order)
    image_path = f"/orders/{order.order_number}/customer-photos/{photo.id}"

    # Signed out: the sign-in page, never the photo.
    anonymous = client.get(image_path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    agent = make_user("agent")
    auth.login(agent.email)
    assert f'hx-get="/orders/{order.order_number}/customer-photos"' in client.get(
        f"/orders/{order.order_number}"
    ).get_data(as_text=True)
    panel = client.get(f"/orders/{order.order_number}/customer-photos").get_data(as_text=True)
    assert f'src="{image_path}?size=thumbnail"' in panel and f'href="{image_path}"' in panel
    thumbnail = client.get(f"{image_path}?size=thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    small = Image.open(io.BytesIO(thumbnail.data))
    assert max(small.size) == 480 and not small.getexif()
    seen = client.get(image_path)
    assert seen.status_code == 200 and seen.mimetype == "image/jpeg"
    assert seen.data == _stored(app, photo)
    assert seen.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in seen.headers["Content-Security-Policy"]
    auth.logout()

    auth.login(tech.email)
    card = client.get("/m/").get_data(as_text=True)
    assert 'data-testid="visit-customer-photos"' in card and f'href="{image_path}"' in card
    assert client.get(image_path).status_code == 200
    # The technician may see, not review.
    assert client.get(f"/orders/{order.order_number}/customer-photos").status_code == 403
    auth.logout()

    auth.login(other.email)
    assert client.get(image_path).status_code == 403
    assert "visit-customer-photos" not in client.get("/m/").get_data(as_text=True)
    auth.logout()

    partner = make_partner()
    portal = make_user("partner", two_factor=True, partner_organization_id=partner.organization.id)
    order.partner_organization_id = partner.organization.id
    db.session.commit()
    auth.login(portal.email)
    assert client.get(image_path).status_code in (302, 403, 404)
    assert client.get(f"/orders/{order.order_number}/customer-photos").status_code in (
        302,
        403,
        404,
    )


def test_asking_again_tells_the_customer_once_with_the_reason_and_the_link(
    app, client, auth, make_user
):
    order, token = _scheduled()
    assert _send(client, token, "main_fuse", photo_jpeg()).status_code == 303
    [photo] = _photos(order)
    planner = make_user("team_lead", language="nl")
    auth.login(planner.email)
    panel = client.get(f"/orders/{order.order_number}/customer-photos").get_data(as_text=True)
    review = f"/orders/{order.order_number}/customer-photos/{photo.id}/review"

    # A reason is required: the customer reads it.
    empty = client.post(
        review, data={"csrf_token": csrf_token_from(panel), "decision": "ask_again", "reason": " "}
    )
    assert empty.status_code == 422 and "de klant leest het" in empty.get_data(as_text=True)
    assert _photos(order)[0].status == "received"

    reason = "De cijfers op de zekering zijn niet leesbaar; graag van dichterbij."
    asked = client.post(
        review,
        data={"csrf_token": csrf_token_from(panel), "decision": "ask_again", "reason": reason},
        headers=HTMX,
    )
    assert asked.status_code == 200
    assert 'data-testid="desk-photo-state-main_fuse">opnieuw gevraagd' in asked.get_data(
        as_text=True
    )
    drain_queues(app)
    assert send_photo_ask(str(photo.id)) == "skipped"  # the job run again sends nothing
    drain_queues(app)

    db.session.expire_all()
    sends = [str(send.request_body) for send in db.session.scalars(sa.select(SandboxSend))]
    told = [body for body in sends if "zekering zijn niet leesbaar" in body]
    assert len(told) == 1
    assert f"http://127.0.0.1:5000/t/{token}" in told[0] and "hoofdzekering" in told[0]
    [photo] = _photos(order)
    assert photo.status == "asked_again" and photo.ask_sent_at and photo.ask_message_id
    auth.logout()

    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert _state(page, "main_fuse") == "asked_again"
    assert "Graag opnieuw" in page and reason in page


def test_in_orde_approves_the_photo_and_tells_nobody(app, client, auth, make_user):
    order, token = _scheduled()
    _send(client, token, "cable_route", photo_jpeg())
    [photo] = _photos(order)
    planner = make_user("team_lead", language="nl")
    auth.login(planner.email)
    panel = client.get(f"/orders/{order.order_number}/customer-photos").get_data(as_text=True)

    answer = client.post(
        f"/orders/{order.order_number}/customer-photos/{photo.id}/review",
        data={"csrf_token": csrf_token_from(panel), "decision": "approve"},
    )

    assert answer.status_code == 200
    [photo] = _photos(order)
    assert photo.status == "approved" and photo.reviewed_by_user_id == planner.id
    drain_queues(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)) == 0


def test_the_board_s_visit_card_counts_the_photos(app, client, auth, make_user):
    order, token = _scheduled()
    planner, tech = make_user("team_lead", language="nl"), make_user("technician", skills=["alfen"])
    day = working_day(7)
    plan_number(order, 1, [tech], day, planner)
    drain_queues(app)
    _send(client, token, "meter_cupboard", photo_jpeg())
    _send(client, token, "main_fuse", photo_jpeg())
    year, week, _ = day.isocalendar()
    board_url = f"/planning/?week={year}-W{week:02d}"
    auth.login(planner.email)

    board = client.get(board_url).get_data(as_text=True)
    assert re.search(r'data-testid="visit-photos">.*?2/4 foto\'s</span>', board, re.S)

    panel = client.get(f"/orders/{order.order_number}/customer-photos").get_data(as_text=True)
    _send(client, token, "charger_spot", photo_jpeg())
    _send(client, token, "cable_route", photo_jpeg())
    for photo in _photos(order):
        client.post(
            f"/orders/{order.order_number}/customer-photos/{photo.id}/review",
            data={"csrf_token": csrf_token_from(panel), "decision": "approve"},
        )
    board = client.get(board_url).get_data(as_text=True)
    assert re.search(r'visit-photos small is-approved".*?foto\'s in orde</span>', board, re.S)


def test_no_photo_is_taken_once_the_order_is_completed(app, client):
    order, token = _scheduled()
    order.status = OrderStatus.COMPLETED
    db.session.commit()
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Foto's voor de monteur" not in page

    before = _all_files(app)
    answer = _send(client, token, "meter_cupboard", photo_jpeg())

    assert answer.status_code == 409
    assert "Uw order is afgerond" in answer.get_data(as_text=True)
    assert _photos(order) == [] and _all_files(app) == before


def test_an_upload_without_the_page_s_csrf_token_is_refused(app, client):
    order, token = _scheduled()
    client.get(f"/t/{token}")
    answer = client.post(
        f"/t/{token}/photos/meter_cupboard",
        data={"photo": (io.BytesIO(photo_jpeg()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert _photos(order) == []


@pytest.fixture
def throttled_app(make_app):
    with opened(make_app(CUSTOMER_LINK_REQUESTS_PER_MINUTE=3)) as app:
        yield app


def test_uploads_count_against_the_page_s_throttle(throttled_app):
    with throttled_app.app_context():
        order, token = _scheduled()
    client = throttled_app.test_client()
    csrf = csrf_token_from(client.get(f"/t/{token}").get_data(as_text=True))
    answers = [
        client.post(f"/t/{token}/photos/meter_cupboard", data={"csrf_token": csrf}).status_code
        for _ in range(3)
    ]
    assert answers == [422, 422, 429]


def test_erasing_the_customer_takes_their_photos_and_files(app, client, make_user):
    order, token = _scheduled()
    _send(client, token, "meter_cupboard", photo_jpeg())
    [photo] = _photos(order)
    path = Path(app.config["ATTACHMENTS_DIR"]) / photo.path
    assert path.exists()

    report = erase_contact(order.end_customer_contact_id, actor_id=make_user("admin").id)
    commit()

    assert report.counts["customer_photos"] == 1
    assert _photos(order) == [] and not path.exists()


def test_migration_0083_makes_one_photo_per_item_current_and_goes_back_cleanly(app, client):
    order, token = _scheduled()
    _send(client, token, "meter_cupboard", photo_jpeg())
    [photo] = _photos(order)
    # A second current photo of the same item is refused by the database itself.
    twin = CustomerPhoto(
        order_id=order.id,
        kind=photo.kind,
        path=photo.path,
        thumbnail_path=photo.thumbnail_path,
        content_type=photo.content_type,
        size=photo.size,
        width=photo.width,
        height=photo.height,
        uploaded_at=photo.uploaded_at,
    )
    db.session.add(twin)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()

    db.session.remove()
    downgrade(revision="0081_customer_links")
    try:
        assert "customer_photos" not in sa.inspect(db.engine).get_table_names()
    finally:
        upgrade()
    assert "customer_photos" in sa.inspect(db.engine).get_table_names()
