"""Agents log phone calls on a conversation.

The call is written by the conversation's owner (a message on the
``phone_call`` channel and its facts), shown in the timeline and the inbox
preview, searchable by its notes, audited, counted for the SLA only when the
customer was reached, and reachable through the JSON API.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.core import call_answers_customer, format_duration, log_call
from app.conversations.workspace.calls import parse_duration, read_call
from app.conversations.workspace.services import InvalidInput
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    Notification,
    PhoneCall,
)
from app.platform.models.enums import (
    CallDirection,
    CallOutcome,
    ChannelType,
    DeliveryStatus,
    MessageType,
    ThreadStatus,
    TokenKind,
)
from app.platform.transactions import commit
from app.platform.ui import local_time
from tests.support import factories
from tests.support.helpers import HX, customer_writes, signed_in_agent

agent = pytest.fixture(signed_in_agent, name="agent")


def _customer_thread(external_id: str = "wamid.call-1"):
    """A customer's WhatsApp question: a thread whose SLA clock runs."""
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, response_sla_hours=1)
    contact = factories.contact(display_name="Jan de Vries")
    message = customer_writes(channel, contact, external_id, "Wanneer komt de monteur?")
    return db.session.get(CommunicationThread, message.thread_id)


def _log(thread, user, **fields):
    defaults = {
        "direction": CallDirection.OUTBOUND,
        "outcome": CallOutcome.REACHED,
        "duration_seconds": 252,
        "notes": "Afspraak ingepland voor dinsdag",
    }
    message = log_call(thread, agent_id=user.id, **{**defaults, **fields})
    commit()
    return message


# --- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("4:12", 252),
        ("04:05", 245),
        ("1:02:03", 3723),
        ("12", 720),
        ("4,5", 270),
        ("4.5", 270),
        ("0", 0),
        (" 7:00 ", 420),
    ],
)
def test_durations_are_read_as_minutes_and_seconds_or_minutes(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["4:75", "abc", "4m", "-3", "1:75:00", ":30", "4:1"])
def test_unreadable_durations_are_refused(raw):
    assert parse_duration(raw) is None


def test_every_bad_field_is_named(app):
    with pytest.raises(InvalidInput) as refused:
        read_call({"direction": "sideways", "outcome": "maybe", "duration": "4:75"})
    assert set(refused.value.fields) == {"direction", "outcome", "duration"}


def test_a_call_longer_than_three_hours_is_refused(app):
    with pytest.raises(InvalidInput) as refused:
        read_call({"direction": "outbound", "outcome": "reached", "duration": "4512"})
    assert "3" in refused.value.fields["duration"]
    assert (
        read_call(
            {"direction": "outbound", "outcome": "reached", "duration": "3:00:00"}
        ).duration_seconds
        == 3 * 3600
    )


def test_a_reached_call_needs_a_duration_an_unanswered_one_does_not(app):
    with pytest.raises(InvalidInput) as refused:
        read_call({"direction": "outbound", "outcome": "reached", "duration": ""})
    assert list(refused.value.fields) == ["duration"]
    unanswered = read_call({"direction": "outbound", "outcome": "no_answer", "duration": ""})
    assert unanswered.duration_seconds == 0


def test_called_at_must_be_a_recent_past_moment(app):
    future = (utcnow() + timedelta(hours=1)).isoformat()
    with pytest.raises(InvalidInput) as refused:
        read_call({"direction": "inbound", "outcome": "voicemail", "called_at": future})
    assert list(refused.value.fields) == ["called_at"]
    with pytest.raises(InvalidInput):
        read_call({"direction": "inbound", "outcome": "voicemail", "called_at": "2026-11-22 10:00"})
    earlier = utcnow() - timedelta(hours=2)
    assert (
        read_call(
            {"direction": "inbound", "outcome": "voicemail", "called_at": earlier.isoformat()}
        ).at
        == earlier
    )


def test_durations_are_written_as_clock_time():
    assert format_duration(252) == "4:12"
    assert format_duration(59) == "0:59"
    assert format_duration(3723) == "1:02:03"


# --- the write ----------------------------------------------------------------


def test_a_logged_call_is_a_delivered_message_with_its_facts(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    message = _log(thread, user)
    db.session.expire_all()
    message = db.session.get(CommunicationMessage, message.id)
    assert message.channel.channel_type == ChannelType.PHONE_CALL
    assert message.message_type == MessageType.OUTGOING
    assert message.delivery_status == DeliveryStatus.DELIVERED  # nothing to send
    assert message.sender_user_id == user.id
    assert message.message_content == "Afspraak ingepland voor dinsdag"
    call = message.phone_call
    assert (call.direction, call.outcome, call.duration_seconds) == (
        CallDirection.OUTBOUND,
        CallOutcome.REACHED,
        252,
    )
    assert call.agent_id == user.id
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.last_message_preview == "\U0001f4de 4:12 · Afspraak ingepland voor dinsdag"


def test_an_inbound_call_is_incoming_and_notifies_nobody(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    thread.assigned_to_user_id = user.id
    commit()
    before = db.session.scalar(sa.select(sa.func.count(Notification.id)))
    message = _log(thread, user, direction=CallDirection.INBOUND)
    assert message.message_type == MessageType.INCOMING
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == before


def test_the_call_notes_are_searchable(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    _log(thread, user, notes="Laadpaal in de carport, graafwerk nodig")
    from app.conversations.inbox.services import InboxQuery, list_threads

    found = list_threads(user, InboxQuery(q="graafwerk"))
    assert [t.id for t in found.threads] == [thread.id]


def test_a_call_is_in_the_audit_log(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    message = _log(thread, user)
    from app.conversations.workspace.calls import CallInput, add_call

    message = add_call(
        thread, user, CallInput(CallDirection.INBOUND, CallOutcome.CALLBACK_REQUESTED, 30, "")
    )
    commit()
    entry = db.session.scalar(
        sa.select(AuditLog).where(
            AuditLog.table_name == "phone_calls", AuditLog.record_id == message.phone_call.id
        )
    )
    assert entry.action == "call_logged"
    assert entry.changed_by_user_id == user.id
    assert entry.changes["outcome"] == "callback_requested"
    assert entry.changes["duration"] == "0:30"


# --- the SLA's first response ---------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "outcome", "answers"),
    [
        (CallDirection.OUTBOUND, CallOutcome.REACHED, True),
        (CallDirection.INBOUND, CallOutcome.REACHED, True),
        (CallDirection.OUTBOUND, CallOutcome.NO_ANSWER, False),
        (CallDirection.OUTBOUND, CallOutcome.VOICEMAIL, False),
        (CallDirection.OUTBOUND, CallOutcome.WRONG_NUMBER, False),
        (CallDirection.INBOUND, CallOutcome.CALLBACK_REQUESTED, False),
    ],
)
def test_only_a_call_that_reached_the_customer_answers_them(direction, outcome, answers):
    assert call_answers_customer(direction, outcome) is answers


def test_a_reached_outbound_call_is_the_first_response(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    assert thread.response_due_at is not None and thread.first_response_at is None
    message = _log(thread, user)
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.first_response_at == message.created_at
    assert thread.response_due_at is None  # the clock stopped
    assert thread.status == ThreadStatus.IN_PROGRESS


def test_an_unanswered_call_leaves_the_clock_running(app, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    due = thread.response_due_at
    _log(thread, user, outcome=CallOutcome.NO_ANSWER, duration_seconds=0, notes="")
    _log(thread, user, outcome=CallOutcome.VOICEMAIL, duration_seconds=20, notes="")
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.first_response_at is None
    assert thread.response_due_at == due
    assert thread.status == ThreadStatus.OPEN


# --- the page -------------------------------------------------------------------


def test_agent_logs_a_call_from_the_composer(app, client, agent):
    thread = _customer_thread()
    token = _csrf(client, thread)
    response = client.post(
        f"/threads/{thread.id}/call",
        data={
            "csrf_token": token,
            "direction": "outbound",
            "outcome": "reached",
            "duration": "4:12",
            "notes": "Afspraak ingepland",
        },
        headers=HX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="call-entry"' in html and "Afspraak ingepland" in html
    assert "4:12" in html
    # Dated like every other entry of the timeline, not only its time of day.
    logged = db.session.scalar(sa.select(PhoneCall)).message.created_at
    entry = html[html.index('data-testid="call-entry"') :]
    assert entry[entry.index("<time") : entry.index("</time>")].endswith(f">{local_time(logged)}")
    call = db.session.scalar(sa.select(PhoneCall))
    assert call.duration_seconds == 252 and call.agent_id == agent.id


def test_a_bad_duration_is_shown_next_to_its_field(app, client, agent):
    thread = _customer_thread()
    token = _csrf(client, thread)
    response = client.post(
        f"/threads/{thread.id}/call",
        data={
            "csrf_token": token,
            "direction": "outbound",
            "outcome": "reached",
            "duration": "4:75",
        },
        headers=HX,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="call-error-duration"' in html
    assert 'value="4:75"' in html  # what the agent typed stays
    assert db.session.scalar(sa.select(sa.func.count(PhoneCall.id))) == 0


def test_the_inbox_preview_names_the_call_in_dutch(app, client, agent):
    thread = _customer_thread()
    _log(thread, agent, notes="")
    html = client.get("/inbox", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "\U0001f4de Telefoongesprek 4:12" in html


def _csrf(client, thread) -> str:
    from tests.support.helpers import csrf_token_from

    return csrf_token_from(client.get(f"/threads/{thread.id}").get_data(as_text=True))


# --- the JSON API ---------------------------------------------------------------


def _bearer(user) -> dict:
    _, token = issue_token(TokenKind.PERSONAL, "calls", user_id=user.id)
    commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_logs_a_call(app, client, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    response = client.post(
        "/api/communication/calls",
        json={
            "thread_id": str(thread.id),
            "direction": "inbound",
            "outcome": "reached",
            "duration": "12",
            "notes": "Vraag over de offerte beantwoord",
        },
        headers=_bearer(user),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert data["channel"] == "phone_call" and data["direction"] == "inbound"
    assert data["call"]["duration_seconds"] == 720 and data["call"]["outcome"] == "reached"
    detail = client.get(f"/api/communication/threads/{thread.id}", headers=_bearer(user))
    calls = [m for m in detail.get_json()["data"]["messages"] if m.get("call")]
    assert [m["call"]["duration"] for m in calls] == ["12:00"]


def test_api_names_the_bad_fields(app, client, make_user):
    user = make_user("agent")
    thread = _customer_thread()
    response = client.post(
        "/api/communication/calls",
        json={"thread_id": str(thread.id), "direction": "outbound", "duration_seconds": 99999},
        headers=_bearer(user),
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"outcome", "duration"}
    missing = client.post("/api/communication/calls", json={}, headers=_bearer(user))
    assert missing.status_code == 422
    assert "thread_id" in missing.get_json()["error"]["fields"]


def test_erasing_the_conversation_erases_the_call_notes_keeps_the_count(app, client, agent):
    from app.conversations.core import erase_threads

    thread = _customer_thread()
    message = _log(thread, agent, notes="Gate code 4411, hond in de tuin")
    # the gate code is checked as the words around it: a random id on the page may hold "4411"
    erase_threads([thread.id])
    commit()
    db.session.expire_all()
    message = db.session.get(CommunicationMessage, message.id)
    assert "Gate code" not in message.message_content and "hond" not in message.message_content
    assert message.phone_call.duration_seconds == 252  # the figures stay, nothing personal
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'data-testid="call-entry"' in html and 'data-testid="erased-message"' in html
    assert "Gate code 4411" not in html and "hond in de tuin" not in html
