""""On my way" reaches the customer once per visit, whichever way it is sent.

The ways: the "On the way" tap on ``/m/`` (again, or replayed from the phone's
offline queue), the quick reply of the ``technician_on_the_way`` template, and
``POST /api/communication/messages`` with that template. The (order, visit day,
kind) row of ``visit_customer_notices`` is claimed before the message is
written, so every second attempt finds it taken. All from outside: form posts
of the signed-in technician, the JSON API with their personal token, and (on
PostgreSQL) racing HTTP requests to a live server.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from app.orders.core.visit_notices import ON_THE_WAY, claim_visit_notice
from app.orders.mobile.conversation import order_thread
from app.orders.mobile.services import local_today
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Order,
    VisitCustomerNotice,
)
from app.platform.models.enums import MessageType, TemplateCategory, TokenKind
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories
from tests.support.helpers import PASSWORD, csrf_token_from
from tests.support.live_server import signed_in_session
from tests.support.mobile_support import visit

HTMX = {"HX-Request": "true"}
RACERS = 6


def _on_the_way_template():
    template = factories.template(
        "Hoi {{customer_first_name}}, {{technician_name}} is onderweg naar u ({{order_id}}).",
        template_name="technician_on_the_way",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        whatsapp_template_name="technician_on_the_way",
    )
    db.session.commit()
    return template


def _told(order) -> list[CommunicationMessage]:
    """What reached (or is on its way to) the customer about this visit."""
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CommunicationMessage)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    ).all()


def _tap(client, token, order, **extra):
    form = {"tap": "on_the_way", "csrf_token": token, **extra}
    return client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX)


def _quick_reply(client, token, order, template):
    form = {"csrf_token": token, "template_id": str(template.id)}
    return client.post(f"/m/visits/{order.id}/reply", data=form, headers=HTMX)


def _bearer(user) -> dict:
    _, token = issue_token(TokenKind.PERSONAL, "phone app", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _thread_of(order) -> str:
    thread = order_thread(order)
    db.session.commit()
    return str(thread.id)


def test_a_second_tap_tells_the_customer_nothing_new(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    assert _tap(client, token, order).status_code == 200
    again = _tap(client, token, order)
    assert "already marked on the way today" in again.get_data(as_text=True)
    assert len(_told(order)) == 1


def test_the_tap_replayed_from_the_offline_queue_is_sent_once(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    action = str(uuid.uuid4())

    assert _tap(client, token, order, client_action_id=action).status_code == 200
    # The phone never saw the answer and sends the same post again from its queue…
    replayed = {"X-Offline-Replay": "1"}
    form = {"tap": "on_the_way", "csrf_token": token, "client_action_id": action}
    client.post(f"/m/visits/{order.id}/status", data=form, headers={**HTMX, **replayed})
    # …and a second tap it had queued while offline, with an id of its own.
    form["client_action_id"] = str(uuid.uuid4())
    client.post(f"/m/visits/{order.id}/status", data=form, headers={**HTMX, **replayed})
    assert len(_told(order)) == 1


def test_tap_then_the_on_the_way_quick_reply_is_refused(client, auth, make_user):
    tech = make_user("technician")
    template = _on_the_way_template()
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    assert f'value="{template.id}"' in client.get("/m/").get_data(as_text=True)
    assert _tap(client, token, order).status_code == 200
    # The card offers it no more; a stale card's button is refused.
    assert f'value="{template.id}"' not in client.get("/m/").get_data(as_text=True)
    refused = _quick_reply(client, token, order, template)
    assert refused.status_code == 422
    assert "already told today that you are on the way" in refused.get_data(as_text=True)
    [told] = _told(order)
    assert told.template_id == template.id


def test_the_quick_reply_first_then_the_tap_records_the_event_without_a_second_message(
    client, auth, make_user
):
    tech = make_user("technician")
    template = _on_the_way_template()
    order = visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    sent = _quick_reply(client, token, order, template)
    assert "message sent to the customer" in sent.get_data(as_text=True)
    tapped = _tap(client, token, order)
    assert "the customer was told so today already" in tapped.get_data(as_text=True)
    assert "On the way since" in tapped.get_data(as_text=True)
    assert len(_told(order)) == 1
    assert _quick_reply(client, token, order, template).status_code == 422
    assert len(_told(order)) == 1


def test_the_json_api_sends_the_template_once_per_visit(client, auth, make_user):
    tech = make_user("technician")
    template = _on_the_way_template()
    order = visit(tech)
    headers = _bearer(tech)
    body = {"thread_id": _thread_of(order), "template_id": str(template.id)}

    first = client.post("/api/communication/messages", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    second = client.post("/api/communication/messages", json=body, headers=headers)
    assert second.status_code == 409
    assert second.get_json()["error"]["fields"] == {"template_id": "sent once per visit day"}
    assert len(_told(order)) == 1

    # The tap afterwards moves the card on and sends nothing.
    auth.login(tech.email)
    tapped = _tap(client, auth.csrf_token("/m/"), order)
    assert tapped.status_code == 200
    assert len(_told(order)) == 1


def test_other_templates_and_other_days_are_not_held_back(client, make_user):
    tech = make_user("technician")
    template = _on_the_way_template()
    other = factories.template(
        "Hoi {{customer_first_name}}, tot straks!",
        template_name="technician_see_you",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        whatsapp_template_name="see_you",
    )
    db.session.commit()
    order = visit(tech)
    headers = _bearer(tech)
    thread_id = _thread_of(order)
    for _ in range(2):
        answer = client.post(
            "/api/communication/messages",
            json={"thread_id": thread_id, "template_id": str(other.id)},
            headers=headers,
        )
        assert answer.status_code == 201, answer.get_json()
    # Yesterday's "on my way" (a visit that took two days) does not hold today's back.
    db.session.add(
        VisitCustomerNotice(
            order_id=order.id,
            visit_day=order.scheduled_date - timedelta(days=1),
            kind="on_the_way",
        )
    )
    db.session.commit()
    answer = client.post(
        "/api/communication/messages",
        json={"thread_id": thread_id, "template_id": str(template.id)},
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_json()
    assert len(_told(order)) == 3


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_an_api_claim_waits_for_a_tap_holding_the_order_instead_of_deadlocking(app, make_user):
    """A tap locks the order, then claims; the API's claim comes in between.

    Before, the API's insert held its new row while its foreign-key check waited
    for the tap's order lock, and the tap's insert then waited for that row:
    PostgreSQL broke the deadlock by failing one of them (a 503 to its sender).
    """
    tech = make_user("technician")
    order_id, day = visit(tech).id, local_today()
    tap_holds_order, tap_may_claim = threading.Event(), threading.Event()
    claimed: dict[str, object] = {}

    def tap() -> None:
        with app.app_context():
            try:
                db.session.get(Order, order_id, with_for_update=True)
                tap_holds_order.set()
                assert tap_may_claim.wait(timeout=30)
                claimed["tap"] = claim_visit_notice(order_id, day, ON_THE_WAY)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the assertions below
                claimed["tap"] = exc
            finally:
                db.session.remove()

    def api() -> None:
        with app.app_context():
            try:
                claimed["api"] = claim_visit_notice(order_id, day, ON_THE_WAY)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                claimed["api"] = exc
            finally:
                db.session.remove()

    tapping = threading.Thread(target=tap)
    tapping.start()
    assert tap_holds_order.wait(timeout=30)
    sending = threading.Thread(target=api)
    sending.start()
    sending.join(timeout=1.0)
    assert sending.is_alive(), claimed  # it waits for the tap's transaction
    tap_may_claim.set()
    tapping.join(timeout=30)
    sending.join(timeout=30)

    assert isinstance(claimed["tap"], uuid.UUID), claimed
    assert claimed["api"] is None, claimed


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_taps_and_api_sends_racing_on_postgresql_tell_the_customer_once(
    live_server, make_user
):
    tech = make_user("technician")
    template_id = str(_on_the_way_template().id)
    order = visit(tech)
    tap_url = f"{live_server.url}/m/visits/{order.id}/status"
    thread_id = _thread_of(order)
    headers = _bearer(tech)
    session = signed_in_session(live_server.url, tech.email, PASSWORD)
    token = csrf_token_from(session.get(f"{live_server.url}/m/", timeout=10).text)
    start = threading.Barrier(RACERS)

    def send(index: int) -> int:
        start.wait()
        if index % 2:
            return requests.post(
                f"{live_server.url}/api/communication/messages",
                json={"thread_id": thread_id, "template_id": template_id},
                headers=headers,
                timeout=30,
            ).status_code
        form = {"tap": "on_the_way", "csrf_token": token, "client_action_id": str(uuid.uuid4())}
        return session.post(tap_url, data=form, headers=HTMX, timeout=30).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        codes = list(pool.map(send, range(RACERS)))

    assert set(codes) <= {200, 201, 409}, codes
    assert len(_told(order)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitCustomerNotice)) == 1


def test_the_ik_ben_onderweg_reply_with_its_arrival_time_counts_as_on_the_way(
    client, auth, make_user
):
    tech = make_user("technician")
    eta = factories.template(
        "Hoi {{customer_first_name}}, ik ben onderweg. Verwachte aankomst: {{eta}}.",
        template_name="technician_eta",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    db.session.commit()
    order = visit(tech, with_whatsapp=False)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    form = {"csrf_token": token, "template_id": str(eta.id), "eta_time": "14:35"}
    assert client.post(f"/m/visits/{order.id}/reply", data=form, headers=HTMX).status_code == 200
    tapped = _tap(client, token, order)
    assert "the customer was told so today already" in tapped.get_data(as_text=True)
    [told] = _told(order)
    assert "Verwachte aankomst: 14:35" in told.message_content


def test_an_on_the_way_reply_taken_back_in_its_undo_window_may_be_sent_again(
    app, client, auth, make_user
):
    app.config["VISIT_UNDO_SECONDS"] = 30
    tech = make_user("technician")
    template = _on_the_way_template()
    order = visit(tech, with_whatsapp=False)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    assert _quick_reply(client, token, order, template).status_code == 200
    [held] = _told(order)
    assert held.is_held
    undone = client.post(
        f"/m/visits/{order.id}/reply/undo",
        data={"csrf_token": token, "message_id": str(held.id)},
        headers=HTMX,
    )
    assert undone.status_code == 200
    assert _told(order) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitCustomerNotice)) == 0

    assert _quick_reply(client, token, order, template).status_code == 200
    assert len(_told(order)) == 1
