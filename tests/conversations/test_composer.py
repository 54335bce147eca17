"""The reply box: drafts on the server, Undo send, WhatsApp's countdown."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

import app.conversations.core.holding as holding
import app.conversations.core.sending as sending
from app.conversations.core import withdraw_outbound
from app.conversations.workspace.composer import countdown_text
from app.conversations.workspace.drafts import save_draft
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, MessageDraft
from app.platform.models.enums import DeliveryStatus, MessageType, ThreadStatus
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories
from tests.support.helpers import HX, outgoing_messages, signed_in_agent
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import (
    customer_text,
    deliver,
    fake_whatsapp_server,
    only_thread,
    wait_until,
    whatsapp_app,
)

# Long enough that a request slowed by a busy machine still renders its reply held (at
# 1.5 s one did not, now and then), short enough to wait for the send in real time.
HOLD_SECONDS = 3.0
LONG_HOLD_SECONDS = 60.0
LONG_HOLD_SECONDS = 60.0
THREAD_FIELDS = (
    "last_message_at",
    "last_message_preview",
    "status",
    "first_response_at",
    "response_due_at",
    "sla_next_check_at",
    "sla_cycle",
    "urgency_bucket",
    "urgency_score",
)


fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
agent = pytest.fixture(signed_in_agent, name="agent")


@pytest.fixture
def app(make_app, fake_whatsapp, tmp_path, request):
    hold = getattr(request, "param", HOLD_SECONDS)
    yield from whatsapp_app(make_app, fake_whatsapp, tmp_path, SEND_UNDO_SECONDS=hold)


@pytest.fixture
def thread(app, client):
    """Jan's WhatsApp conversation, opened by his message through the real webhook."""
    deliver(app, client, customer_text("Mijn laadpaal knippert rood", wamid="wamid.in1"))
    return only_thread()


def _token(client, thread):
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def _save(client, thread, token, **body):
    return client.post(f"/threads/{thread.id}/draft", json=body, headers={"X-CSRFToken": token})


def _reply(client, thread, token, content):
    return client.post(
        f"/threads/{thread.id}/reply",
        data={"csrf_token": token, "content": content},
        headers=HX,
    )


def _textarea(html: str, testid: str) -> str:
    match = re.search(rf'<textarea [^>]*data-testid="{testid}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no {testid} box"
    return match.group(1)


def _thread_state(thread_id):
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread_id)
    return {name: getattr(thread, name) for name in THREAD_FIELDS}


# --- drafts --------------------------------------------------------------------------


def test_a_draft_is_saved_restored_in_the_box_and_cleared_when_sent(
    app, client, agent, thread, fake_whatsapp
):
    token = _token(client, thread)
    assert _save(client, thread, token, kind="reply", content="We komen").status_code == 200
    # Typing on: one row, the newest text.
    response = _save(client, thread, token, kind="reply", content="We komen morgen langs")
    assert response.get_json() == {"saved": True, "kind": "reply"}
    assert _save(client, thread, token, kind="note", content="Klant belt vaak").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageDraft)) == 2

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert _textarea(page, "reply-content") == "We komen morgen langs"
    assert _textarea(page, "note-content") == "Klant belt vaak"

    response = _reply(client, thread, token, "We komen morgen langs")
    assert response.status_code == 200
    assert _textarea(response.get_data(as_text=True), "reply-content") == ""
    kinds = db.session.scalars(sa.select(MessageDraft.kind)).all()
    assert kinds == ["note"]  # the note box keeps its own draft

    client.post(
        f"/threads/{thread.id}/note",
        data={"csrf_token": token, "content": "Klant belt vaak"},
        headers=HX,
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageDraft)) == 0


def test_an_emptied_box_discards_the_draft(app, client, agent, thread):
    token = _token(client, thread)
    _save(client, thread, token, kind="reply", content="Hallo")
    assert _save(client, thread, token, kind="reply", content="   ").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageDraft)) == 0


def test_drafts_belong_to_their_author(app, client, auth, agent, make_user, thread):
    token = _token(client, thread)
    _save(client, thread, token, kind="reply", content="Alleen van mij")
    make_user("agent", email="collega@switchboard.test")
    auth.logout()
    auth.login("collega@switchboard.test")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert _textarea(page, "reply-content") == ""


def test_a_bad_draft_is_refused_naming_the_field(app, client, agent, thread):
    token = _token(client, thread)
    response = _save(client, thread, token, kind="email", content="x")
    assert response.status_code == 422
    assert "kind" in response.get_json()["error"]["fields"]
    response = _save(client, thread, token, kind="reply", content=["not", "text"])
    assert response.status_code == 422
    assert "content" in response.get_json()["error"]["fields"]
    response = _save(client, thread, token, kind="reply", content="x" * 20_001)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageDraft)) == 0


def test_no_draft_on_a_conversation_the_user_cannot_see(app, client, agent, thread):
    token = _token(client, thread)
    other_team = factories.team("Installaties")
    thread.assigned_team_id = other_team.id
    db.session.commit()
    response = _save(client, thread, token, kind="reply", content="Stiekem")
    assert response.status_code == 403
    missing = client.post(
        "/threads/00000000-0000-0000-0000-000000000000/draft",
        json={"kind": "reply", "content": "x"},
        headers={"X-CSRFToken": token},
    )
    assert missing.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageDraft)) == 0


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL")
def test_concurrent_saves_of_one_draft_make_one_row(app, make_user, thread):
    user = make_user("agent")
    thread_id, user_id = thread.id, user.id
    barrier = threading.Barrier(8)
    errors = []

    def save(n):
        with app.app_context():
            try:
                me = db.session.get(type(user), user_id)
                conversation = db.session.get(CommunicationThread, thread_id)
                barrier.wait()
                save_draft(me, conversation, "reply", f"versie {n}")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    db.session.expire_all()
    rows = db.session.scalars(sa.select(MessageDraft)).all()
    assert len(rows) == 1 and rows[0].content.startswith("versie ")


# --- Undo send ------------------------------------------------------------------------


# A long hold: on a loaded CI machine the reply request itself took longer than 3 s, and
# this test is about what Undo does inside the window, not about the window's length.
@pytest.mark.parametrize("app", [LONG_HOLD_SECONDS], indirect=True)
def test_undo_within_the_hold_sends_nothing_and_leaves_the_thread_as_before(
    app, client, agent, thread, fake_whatsapp, clock
):
    before = _thread_state(thread.id)
    assert before["status"] == ThreadStatus.OPEN and before["response_due_at"] is not None
    token = _token(client, thread)
    response = _reply(client, thread, token, "We komen morgen langs.")
    assert response.status_code == 200
    timeline = response.get_data(as_text=True)
    assert 'data-status="held"' in timeline and 'data-testid="undo-send"' in timeline
    [held] = outgoing_messages()
    assert held.is_held and held.delivery_status == DeliveryStatus.PENDING
    held_id = held.id
    # Meanwhile it counts as the reply: the inbox shows it, the clock stopped.
    assert _thread_state(thread.id)["last_message_preview"] == "We komen morgen langs."

    response = client.post(
        f"/threads/{thread.id}/messages/{held_id}/undo", data={"csrf_token": token}, headers=HX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _textarea(html, "reply-content") == "We komen morgen langs."
    assert "We komen morgen langs." not in html.split('id="timeline"')[1]
    assert outgoing_messages() == []
    assert _thread_state(thread.id) == before
    # The text is the draft again, so a reload shows it too.
    assert db.session.scalar(sa.select(MessageDraft.content)) == "We komen morgen langs."

    # The hold ends: neither the sweep nor the scheduled send job (run now, as RQ would
    # when its time comes) sends the withdrawn reply.
    clock.advance(LONG_HOLD_SECONDS + 1)
    assert sending.requeue_stalled_sends() == 0
    assert sending.send_message(str(held_id)) is None
    drain_queues(app)
    assert fake_whatsapp.requests_to("/messages", "POST") == []


def test_after_the_hold_the_reply_is_sent_and_undo_is_too_late(
    app, client, agent, thread, fake_whatsapp
):
    token = _token(client, thread)
    started = time.monotonic()
    _reply(client, thread, token, "We komen morgen langs.")
    [held] = outgoing_messages()
    wait_until(lambda: bool(fake_whatsapp.sent()), app)
    assert time.monotonic() - started >= HOLD_SECONDS - 1.0  # RQ schedules in whole seconds
    [message] = outgoing_messages()
    assert message.delivery_status == DeliveryStatus.SENT and message.send_held_until is None
    assert fake_whatsapp.sent()[0]["text"]["body"] == "We komen morgen langs."

    response = client.post(
        f"/threads/{thread.id}/messages/{held.id}/undo", data={"csrf_token": token}, headers=HX
    )
    assert response.status_code == 409
    assert "Too late to undo" in response.get_data(as_text=True)
    assert len(outgoing_messages()) == 1


# Held for a minute: on a busy machine a hold of seconds can end, and the scheduler
# hand the job on, before the test looks for it in the scheduled registry.
@pytest.mark.parametrize("app", [LONG_HOLD_SECONDS], indirect=True)
def test_a_held_reply_whose_job_was_lost_is_sent_by_the_sweep(
    app, client, agent, thread, fake_whatsapp, clock
):
    token = _token(client, thread)
    _reply(client, thread, token, "Toch verstuurd")
    # Redis lost the scheduled send job.
    scheduled = app.extensions["broker"].queue("deliveries").scheduled_job_registry
    [job_id] = scheduled.get_job_ids()
    scheduled.remove(job_id, delete_job=True)
    assert sending.requeue_stalled_sends() == 0  # still held: the sweep leaves it
    clock.advance(LONG_HOLD_SECONDS + 1)
    assert sending.requeue_stalled_sends() == 1
    wait_until(lambda: bool(fake_whatsapp.sent()), app)


def test_undo_and_the_send_job_one_after_the_other(app, client, agent, thread, fake_whatsapp):
    token = _token(client, thread)
    _reply(client, thread, token, "Eerste")
    [first] = outgoing_messages()
    # Undo first: the job finds nothing to send.
    assert withdraw_outbound(thread, first.id, author_id=agent.id) is not None
    db.session.commit()
    assert sending.send_message(str(first.id)) is None

    _reply(client, thread, token, "Tweede")
    [second] = outgoing_messages()
    db.session.execute(
        sa.update(CommunicationMessage)
        .where(CommunicationMessage.id == second.id)
        .values(send_held_until=utcnow(), send_lease_expires_at=utcnow())
    )
    db.session.commit()
    # The job first: Undo finds it taken.
    assert sending.send_message(str(second.id)) is not None
    db.session.expire_all()
    assert withdraw_outbound(thread, second.id, author_id=agent.id) is None
    assert [m["text"]["body"] for m in fake_whatsapp.sent()] == ["Tweede"]


# Signing a colleague in takes seconds on a busy machine; the reply must still be held.
@pytest.mark.parametrize("app", [LONG_HOLD_SECONDS], indirect=True)
def test_only_the_author_can_undo(app, client, auth, agent, make_user, thread):
    token = _token(client, thread)
    _reply(client, thread, token, "Van mij")
    [held] = outgoing_messages()
    make_user("agent", email="collega@switchboard.test")
    auth.logout()
    auth.login("collega@switchboard.test")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'data-status="held"' in page and 'data-testid="undo-send"' not in page
    token = _token(client, thread)
    response = client.post(
        f"/threads/{thread.id}/messages/{held.id}/undo", data={"csrf_token": token}, headers=HX
    )
    assert response.status_code == 409
    assert len(outgoing_messages()) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL")
def test_undo_racing_the_job_exactly_one_wins(
    app, client, agent, thread, fake_whatsapp, monkeypatch
):
    """Undo and the claim at the same moment, each sure it is on its side of the hold
    (clocks of two machines differ): the row decides, once."""
    token = _token(client, thread)
    ids = []
    for n in range(6):
        _reply(client, thread, token, f"Bericht {n}")
    ids = [m.id for m in outgoing_messages()]
    held_until = utcnow() + timedelta(seconds=30)
    db.session.execute(
        sa.update(CommunicationMessage).values(
            send_held_until=held_until, send_lease_expires_at=held_until - timedelta(seconds=1)
        )
    )
    db.session.commit()
    # The worker's clock says the hold is over; the web process's says it is not.
    monkeypatch.setattr(sending, "utcnow", lambda: held_until + timedelta(seconds=1))
    monkeypatch.setattr(holding, "utcnow", lambda: held_until - timedelta(seconds=1))
    thread_id, author_id = thread.id, agent.id
    outcomes = {}

    def undo(message_id, barrier):
        with app.app_context():
            conversation = db.session.get(CommunicationThread, thread_id)
            barrier.wait()
            withdrawn = withdraw_outbound(conversation, message_id, author_id=author_id)
            db.session.commit()
            outcomes[(message_id, "undo")] = withdrawn is not None
            db.session.remove()

    def claim(message_id, barrier):
        with app.app_context():
            barrier.wait()
            outcomes[(message_id, "claim")] = sending._claim(message_id)
            db.session.remove()

    for message_id in ids:
        barrier = threading.Barrier(2)
        pair = [
            threading.Thread(target=undo, args=(message_id, barrier)),
            threading.Thread(target=claim, args=(message_id, barrier)),
        ]
        for worker in pair:
            worker.start()
        for worker in pair:
            worker.join()
        assert outcomes[(message_id, "undo")] != outcomes[(message_id, "claim")], message_id
    db.session.expire_all()
    left = {m.id for m in outgoing_messages()}
    claimed = {i for i in ids if outcomes[(i, "claim")]}
    assert left == claimed


# --- WhatsApp's 24-hour window ------------------------------------------------------------


def test_the_countdown_is_computed_from_the_last_whatsapp_message(app, client, agent):
    ago = timedelta(hours=20, minutes=47, seconds=30)
    seconds = int(ago.total_seconds())
    deliver(app, client, customer_text("Hoi", wamid="wamid.old", ago_seconds=seconds))
    thread = only_thread()
    inbound = db.session.scalar(
        sa.select(CommunicationMessage.created_at).where(
            CommunicationMessage.message_type == MessageType.INCOMING
        )
    )
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    match = re.search(r'data-window-closes-at="([^"]+)"[^>]*>([^<]+)<', page)
    assert match, "no countdown on a WhatsApp thread inside the window"
    assert match.group(1) == (inbound + timedelta(hours=24)).isoformat()
    assert match.group(2) == "Window closes in 3 h 12 min"
    assert 'data-testid="whatsapp-window-closed"' not in page


def test_a_closed_window_shows_the_templates_notice_not_a_countdown(app, client, agent):
    deliver(app, client, customer_text("Hoi", wamid="wamid.old", ago_seconds=25 * 3600))
    page = client.get(f"/threads/{only_thread().id}").get_data(as_text=True)
    assert "data-window-closes-at" not in page
    assert 'data-testid="whatsapp-window-closed"' in page


def test_countdown_words():
    now = utcnow()
    assert countdown_text(now + timedelta(hours=3, minutes=12, seconds=40), now) == (
        "Window closes in 3 h 12 min"
    )
    assert countdown_text(now + timedelta(minutes=59, seconds=59), now) == "Window closes in 59 min"
    assert countdown_text(now + timedelta(seconds=30), now) == "Window closes in less than a minute"


# --- Undo send: templates, the clock, and who may use the composer's routes -------------


def test_undo_brings_back_the_template_and_its_typed_values(app, client, agent, thread):
    template = factories.template(
        body="Wij antwoorden voor {{response_date}}.", variables=["response_date"]
    )
    db.session.commit()
    token = _token(client, thread)
    response = client.post(
        f"/threads/{thread.id}/reply",
        data={
            "csrf_token": token,
            "content": "",
            "template_id": str(template.id),
            "variables.response_date": "vrijdag",
        },
        headers=HX,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    [held] = outgoing_messages()
    assert held.message_content == "Wij antwoorden voor vrijdag."

    page = client.post(
        f"/threads/{thread.id}/messages/{held.id}/undo", data={"csrf_token": token}, headers=HX
    ).get_data(as_text=True)

    composer = page.split('id="timeline"')[0]
    assert re.search(rf'<option value="{template.id}" selected>', composer)
    assert 'name="variables.response_date" value="vrijdag"' in composer
    # Nothing typed: sending again renders the template anew.
    assert _textarea(composer, "reply-content") == ""


def test_the_undo_button_says_how_many_seconds_the_server_holds_it(
    app, client, agent, thread, monkeypatch
):
    # A hold far longer than the request: with the file's 1.5 s, a request slowed past
    # it on a busy machine rendered the reply as sent already (no Undo to read).
    monkeypatch.setitem(app.config, "SEND_UNDO_SECONDS", 60.0)
    token = _token(client, thread)
    timeline = _reply(client, thread, token, "Even geduld").get_data(as_text=True)
    held_for = float(re.search(r'data-held-for="([\d.]+)"', timeline).group(1))
    assert 50 < held_for <= 60


def test_the_composer_routes_refuse_with_the_page_saying_whose_thread_it_is(
    app, client, agent, thread
):
    token = _token(client, thread)
    thread.assigned_team_id = factories.team("Installaties").id
    db.session.commit()
    for path in (f"/threads/{thread.id}/customer", f"/threads/{thread.id}/canned"):
        page = client.get(path)
        assert page.status_code == 403
        assert "belongs to the team Installaties" in page.get_data(as_text=True), path
    undo = client.post(
        f"/threads/{thread.id}/messages/{thread.id}/undo", data={"csrf_token": token}
    )
    assert undo.status_code == 403 and "belongs to the team Installaties" in undo.get_data(
        as_text=True
    )
    as_json = client.get(f"/threads/{thread.id}/customer", headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.is_json
