"""``client_action_id`` on ``/m/`` posts: a post the phone sends again is done once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import BytesIO

import sqlalchemy as sa

from app.orders.mobile.replay import forget_old_actions, is_offline_replay
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, MobileAction, OrderStatusTransition
from tests.support.helpers import PASSWORD, csrf_token_from
from tests.support.live_server import signed_in_session
from tests.support.mobile_support import png_bytes, visit

HTMX = {"HX-Request": "true"}
RACERS = 6


def _moves(order) -> list[tuple[str | None, str]]:
    return [
        (t.from_status, t.to_status)
        for t in db.session.scalars(
            sa.select(OrderStatusTransition)
            .where(OrderStatusTransition.order_id == order.id)
            .order_by(OrderStatusTransition.created_at)
        )
    ]


def test_a_status_tap_sent_twice_is_done_once_and_answers_as_before(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    action = str(uuid.uuid4())
    form = {"tap": "started", "csrf_token": token, "client_action_id": action}

    first = client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX)
    again = client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX)

    assert first.status_code == again.status_code == 200
    assert first.headers["X-Client-Action"] == "done"
    assert again.headers["X-Client-Action"] == "replayed"
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    assert _moves(order) == [("scheduled", "in_progress")]
    kept = db.session.scalars(sa.select(MobileAction)).all()
    assert [(k.user_id, str(k.client_action_id), k.status_code) for k in kept] == [
        (tech.id, action, 200)
    ]


def test_a_refused_action_keeps_no_key_and_is_asked_again(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    form = {"tap": "nonsense", "csrf_token": token, "client_action_id": str(uuid.uuid4())}

    refused = client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX)

    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 0
    assert client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX).status_code == 422


def test_a_photo_sent_twice_is_attached_once(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    action = str(uuid.uuid4())

    def send():
        return client.post(
            f"/m/visits/{order.id}/photo",
            data={
                "csrf_token": token,
                "client_action_id": action,
                "photo": (BytesIO(png_bytes()), "meterkast.png"),
            },
            headers=HTMX,
            content_type="multipart/form-data",
        )

    assert send().status_code == 200
    assert send().status_code == 200
    notes = db.session.scalars(sa.select(CommunicationMessage.id)).all()
    assert len(notes) == 1


def test_the_same_id_from_another_technician_is_their_own_action(client, auth, make_user):
    tech, other = make_user("technician"), make_user("technician")
    order, theirs = visit(tech), visit(other, number="CC-2026-00043", with_whatsapp=False)
    action = str(uuid.uuid4())
    for user, job in ((tech, order), (other, theirs)):
        auth.login(user.email)
        token = auth.csrf_token("/m/")
        answer = client.post(
            f"/m/visits/{job.id}/status",
            data={"tap": "started", "csrf_token": token, "client_action_id": action},
            headers=HTMX,
        )
        assert answer.headers["X-Client-Action"] == "done"
        client.post("/logout", data={"csrf_token": token})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 2


def test_a_post_without_the_field_or_with_a_malformed_one_works_as_before(
    client, auth, make_user
):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    answer = client.post(
        f"/m/visits/{order.id}/status",
        data={"tap": "started", "csrf_token": token, "client_action_id": "not-a-uuid"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "X-Client-Action" not in answer.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 0


def test_every_phone_post_is_done_once(app):
    """Each form post of /m/ takes a client_action_id (the offline queue sends one)."""
    posts = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("mobile.") and "POST" in rule.methods
    ]
    assert posts
    missing = [name for name in posts if not getattr(app.view_functions[name], "replayable", False)]
    assert missing == [], f"add @replayable to {missing}"


def test_answers_older_than_a_week_are_forgotten(client, auth, make_user):
    tech = make_user("technician")
    for age in (1, 8):
        db.session.add(
            MobileAction(
                user_id=tech.id,
                client_action_id=uuid.uuid4(),
                status_code=200,
                created_at=utcnow() - timedelta(days=age),
            )
        )
    db.session.commit()
    assert forget_old_actions() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 1


def test_the_same_post_sent_at_once_from_many_connections_is_done_once(
    live_server, make_user
):
    """The phone's retries racing each other: PostgreSQL's unique key lets one through."""
    tech = make_user("technician")
    order = visit(tech)
    session = signed_in_session(live_server.url, tech.email, PASSWORD)
    token = csrf_token_from(session.get(f"{live_server.url}/m/", timeout=10).text)
    form = {"tap": "started", "csrf_token": token, "client_action_id": str(uuid.uuid4())}
    start = threading.Barrier(RACERS)
    url = f"{live_server.url}/m/visits/{order.id}/status"

    def post(_):
        start.wait()
        return session.post(url, data=form, headers=HTMX, timeout=30)

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(post, range(RACERS)))

    # Done once; the others got the kept answer, or "try again" while it was written.
    assert {a.status_code for a in answers} <= {200, 503}
    assert [a.headers.get("X-Client-Action") for a in answers].count("done") == 1
    db.session.expire_all()
    assert _moves(order) == [("scheduled", "in_progress")]


def test_a_post_from_the_offline_queue_is_recognised(app):
    action = {"client_action_id": str(uuid.uuid4())}
    replayed = {"X-Offline-Replay": "1"}
    with app.test_request_context("/m/", method="POST", data=action, headers=replayed):
        assert is_offline_replay()
    with app.test_request_context("/m/", method="POST", data=action):
        assert not is_offline_replay()
    with app.test_request_context("/m/", method="POST", data={}, headers=replayed):
        assert not is_offline_replay()
