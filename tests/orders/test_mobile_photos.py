"""Photos from the visit: checked by their bytes, stored, and shown in the order's thread."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.orders.mobile.photos import MAX_PHOTO_BYTES, sniff_image_type
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType
from tests.support.mobile_support import HEIC_HEAD, JPEG_HEAD, WEBP_HEAD, png_bytes, visit

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (JPEG_HEAD, "image/jpeg"),
        (png_bytes(), "image/png"),
        (WEBP_HEAD, "image/webp"),
        (HEIC_HEAD, "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),  # an MP4 video
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"GIF89a\x01\x00", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_image_types_are_known_by_their_first_bytes(head, expected):
    assert sniff_image_type(head[:16]) == expected


def _upload(client, order, token, data: bytes, filename: str, headers=None, **fields):
    return client.post(
        f"/m/visits/{order.id}/photo",
        data={"csrf_token": token, "photo": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _notes():
    return db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.INTERNAL_NOTE
        )
    ).all()


def test_a_photo_lands_on_the_orders_thread_and_the_agent_can_open_it(app, client, auth, make_user):
    tech = make_user("technician")
    agent = make_user("agent")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    photo = png_bytes()

    # Named .jpg by the phone, but a PNG by its bytes: stored as what it is.
    answer = _upload(client, order, token, photo, "IMG_0042.jpg", HTMX, caption="Meterkast na")

    assert answer.status_code == 200
    assert "CC-2026-00042: photo added to the conversation." in answer.get_data(as_text=True)
    [note] = _notes()
    assert note.thread.order_id == order.id
    assert note.sender_user_id == tech.id
    assert note.message_content == "Meterkast na"
    [entry] = note.attachments
    assert entry["status"] == "stored"
    assert entry["mime_type"] == "image/png"
    assert entry["filename"] == "IMG_0042.png"
    assert entry["path"] == f"{note.id}/IMG_0042.png"
    assert entry["size"] == len(photo)
    stored = Path(app.config["ATTACHMENTS_DIR"]) / entry["path"]
    assert stored.read_bytes() == photo

    auth.logout()
    auth.login(agent.email)
    page = client.get(f"/threads/{note.thread_id}").get_data(as_text=True)
    assert "Meterkast na" in page
    assert f'<img class="attachment-image" src="/attachments/{note.id}/0"' in page
    image = client.get(f"/attachments/{note.id}/0")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data == photo
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    assert client.get(f"/attachments/{note.id}/1").status_code == 404


def test_the_download_is_only_for_people_who_may_see_the_thread(client, auth, make_user):
    tech = make_user("technician")
    stranger = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    _upload(client, order, auth.csrf_token("/m/"), JPEG_HEAD + b"\x00" * 64, "a.jpg")
    [note] = _notes()
    assert client.get(f"/attachments/{note.id}/0").status_code == 200
    auth.logout()
    assert client.get(f"/attachments/{note.id}/0").status_code == 302  # sign in first
    auth.login(stranger.email)
    assert client.get(f"/attachments/{note.id}/0").status_code == 404


def test_an_entry_pointing_outside_the_attachments_folder_is_not_served(client, auth, make_user):
    admin = make_user("admin")
    order = visit(admin)
    auth.login(admin.email)
    _upload(client, order, auth.csrf_token("/m/"), png_bytes(), "a.png")
    [note] = _notes()
    note.attachments = [{**note.attachments[0], "path": "../../etc/passwd"}]
    db.session.commit()
    assert client.get(f"/attachments/{note.id}/0").status_code == 404


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"just some text, honest", "photo.png", "not a JPEG, PNG, WebP or HEIC photo"),
        (b"<svg onload='alert(1)'/>", "photo.jpg", "not a JPEG, PNG, WebP or HEIC photo"),
        (b"", "empty.jpg", "Choose or take a photo first."),
    ],
)
def test_files_that_are_no_photo_are_refused(client, auth, make_user, data, filename, message):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    answer = _upload(client, order, auth.csrf_token("/m/"), data, filename, HTMX)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert _notes() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationThread)) == 0


def test_a_post_without_a_file_is_refused(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    answer = client.post(
        f"/m/visits/{order.id}/photo",
        data={"csrf_token": auth.csrf_token("/m/")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    assert "Choose or take a photo first." in client.get("/m/").get_data(as_text=True)


def test_a_photo_over_the_limit_is_refused_before_it_is_read(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    too_big = JPEG_HEAD + b"\x00" * (MAX_PHOTO_BYTES + 128 * 1024)

    answer = _upload(client, order, token, too_big, "huge.jpg", HTMX)

    assert answer.status_code == 422
    assert "The photo is over the 10 MB limit." in answer.get_data(as_text=True)
    plain = _upload(client, order, token, too_big, "huge.jpg")
    assert plain.status_code == 303
    assert "The photo is over the 10 MB limit." in client.get("/m/").get_data(as_text=True)
    assert _notes() == []


def test_a_photo_just_over_the_limit_inside_the_form_allowance_is_refused(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    data = JPEG_HEAD + b"\x00" * (MAX_PHOTO_BYTES - len(JPEG_HEAD) + 1)
    answer = _upload(client, order, auth.csrf_token("/m/"), data, "big.jpg", HTMX)
    assert answer.status_code == 422
    assert "over the 10 MB limit" in answer.get_data(as_text=True)
    assert _notes() == []


def test_someone_elses_visit_takes_no_photos(client, auth, make_user):
    tech = make_user("technician")
    other = make_user("technician")
    order = visit(tech)
    auth.login(other.email)
    token = auth.csrf_token("/m/")
    answer = _upload(client, order, token, png_bytes(), "a.png")
    assert answer.status_code == 403
    # Too large is answered before the route's checks, and shows nothing of the visit.
    too_big = _upload(client, order, token, JPEG_HEAD + b"\0" * (MAX_PHOTO_BYTES + 99_000), "a.jpg")
    assert too_big.status_code == 413
    assert "CC-2026-00042" not in too_big.get_data(as_text=True)
    assert _notes() == []
