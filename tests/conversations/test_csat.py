"""The rating question after a resolution, its answer, and the figures."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

import app.conversations.core.sending as sending
from app.analytics.figures import compute
from app.analytics.filters import AnalyticsFilter
from app.conversations.csat.asking import ask_missed, ask_rating, enqueue_ask
from app.conversations.csat.tokens import rating_token
from app.conversations.gdpr.erasure import erase_contact
from app.conversations.workspace.editing import update_thread
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, CsatResponse, SandboxSend
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus
from app.platform.transactions import commit
from tests.conftest import opened
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.helpers import PASSWORD, csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import (
    CUSTOMER,
    CUSTOMER_E164,
    deliver,
    fake_whatsapp_server,
    whatsapp_app,
)

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def app(make_app, fake_whatsapp, tmp_path):
    yield from whatsapp_app(make_app, fake_whatsapp, tmp_path)


@pytest.fixture
def agent(make_user):
    return make_user("agent", email="anouk@switchboard.test")


def conversation(
    *,
    channel_type=ChannelType.WHATSAPP_BUSINESS,
    wrote_ago=timedelta(hours=2),
    contact=None,
    email=None,
    **thread_fields,
) -> CommunicationThread:
    """A customer's conversation; the customer last wrote ``wrote_ago``."""
    channel = factories.channel(channel_type, channel_name=channel_type.value)
    contact = contact or factories.contact(
        display_name="Jan Jansen", phone=CUSTOMER_E164, email=email
    )
    wrote_at = utcnow() - wrote_ago
    thread = factories.thread(
        channel, contact, last_customer_message_at=wrote_at, **thread_fields
    )
    factories.message(thread, "Hoi, een vraag", sender_contact_id=contact.id, created_at=wrote_at)
    db.session.commit()
    return thread


def resolve(app, thread: CommunicationThread, agent) -> None:
    """Resolve as a person does (the inline edit), then run the jobs it queued."""
    thread = db.session.get(CommunicationThread, thread.id)
    update_thread(
        thread, agent, expected_version=thread.lock_version, changes={"status": "resolved"}
    )
    commit()
    drain_queues(app)
    db.session.expire_all()


def surveys() -> list[CsatResponse]:
    return list(db.session.scalars(sa.select(CsatResponse).order_by(CsatResponse.created_at)))


def interactive_sends(fake) -> list[dict]:
    return [body for body in fake.sent() if body.get("type") == "interactive"]


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


# --- asking --------------------------------------------------------------------------


def test_inside_the_window_the_question_is_a_whatsapp_list_asked_once(
    app, agent, fake_whatsapp
):
    thread = conversation(assigned_to_user_id=agent.id)
    resolve(app, thread, agent)
    # Duplicate events and a retried job meet the same resolution.
    enqueue_ask(thread.id)
    ask_rating(str(thread.id))
    drain_queues(app)
    wait_for(lambda: len(interactive_sends(fake_whatsapp)) >= 1)

    (survey,) = surveys()
    assert (survey.state, survey.ask_channel, survey.agent_id) == ("asked", "whatsapp", agent.id)
    (sent,) = interactive_sends(fake_whatsapp)
    assert sent["to"] == CUSTOMER
    interactive = sent["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"csat:{survey.id}:{n}" for n in range(1, 6)]
    assert all(len(row["title"]) <= 24 for row in rows)
    assert len(interactive["action"]["button"]) <= 20
    question = db.session.get(CommunicationMessage, survey.message_id)
    assert question.thread_id == thread.id and question.extra["automation"] == "csat"
    assert db.session.get(CommunicationThread, thread.id).status == ThreadStatus.RESOLVED


def test_a_question_whose_send_was_lost_goes_out_with_the_stalled_sends(
    app, agent, fake_whatsapp, monkeypatch
):
    thread = conversation()
    db.session.get(CommunicationThread, thread.id).status = ThreadStatus.RESOLVED
    db.session.get(CommunicationThread, thread.id).resolved_at = utcnow()
    db.session.commit()
    # The job wrote the survey and its question, then the worker died before
    # the send job was queued (or Redis lost it).
    with monkeypatch.context() as lost:
        lost.setattr(sending, "enqueue_send", lambda *args, **kwargs: None)
        survey_id = ask_rating(str(thread.id))
    question = db.session.get(CsatResponse, uuid.UUID(str(survey_id))).message_id
    db.session.get(CommunicationMessage, question).created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert interactive_sends(fake_whatsapp) == []

    assert sending.requeue_stalled_sends() == 1
    drain_queues(app)
    wait_for(lambda: len(interactive_sends(fake_whatsapp)) == 1)
    assert db.session.get(CommunicationMessage, question).delivery_status != DeliveryStatus.PENDING


def test_outside_the_window_the_question_is_an_email_with_a_link(app, agent, fake_whatsapp):
    thread = conversation(wrote_ago=timedelta(hours=30), email="jan@example.nl")
    resolve(app, thread, agent)

    (survey,) = surveys()
    assert (survey.state, survey.ask_channel) == ("asked", "email")
    assert interactive_sends(fake_whatsapp) == []
    question = db.session.get(CommunicationMessage, survey.message_id)
    assert question.recipient_external["email"] == "jan@example.nl"
    assert f"/csat/{rating_token(survey.id)}" in question.message_content
    assert question.subject  # in the customer's language (the catalogue's Dutch once merged)


def test_without_an_address_outside_the_window_nobody_is_asked(app, agent, fake_whatsapp):
    thread = conversation(wrote_ago=timedelta(hours=30))
    resolve(app, thread, agent)
    (survey,) = surveys()
    assert (survey.state, survey.skip_reason, survey.message_id) == ("skipped", "no_address", None)


def test_a_customer_is_not_asked_twice_within_the_quiet_days(app, agent, fake_whatsapp):
    first = conversation(wrote_ago=timedelta(hours=30), email="jan@example.nl")
    resolve(app, first, agent)
    second = conversation(wrote_ago=timedelta(hours=30), contact=first.contact)
    resolve(app, second, agent)
    asked, quiet = surveys()
    assert asked.state == "asked" and (quiet.state, quiet.skip_reason) == (
        "skipped",
        "quiet_period",
    )

    # After CSAT_QUIET_DAYS (30) the customer may be asked again.
    asked.asked_at = utcnow() - timedelta(days=31)
    third = conversation(wrote_ago=timedelta(hours=30), contact=first.contact)
    resolve(app, third, agent)
    assert [s.state for s in surveys()] == ["asked", "skipped", "asked"]


def test_a_customer_with_another_open_conversation_is_asked_when_that_one_is_resolved(
    app, agent, fake_whatsapp
):
    first = conversation(wrote_ago=timedelta(hours=30), email="jan@example.nl")
    second = conversation(wrote_ago=timedelta(hours=30), contact=first.contact)
    resolve(app, first, agent)
    resolve(app, second, agent)
    assert [(s.thread_id, s.state, s.skip_reason) for s in surveys()] == [
        (first.id, "skipped", "other_open"),
        (second.id, "asked", None),
    ]


def test_switched_off_nothing_is_asked_and_the_sweep_takes_up_lost_jobs(
    app, agent, fake_whatsapp
):
    app.config["CSAT_ENABLED"] = False
    thread = conversation(email="jan@example.nl")
    resolve(app, thread, agent)
    assert surveys() == []

    # Switched on again: the ask job of this resolution was never queued; the
    # sweep finds it once it is a minute old.
    app.config["CSAT_ENABLED"] = True
    db.session.get(CommunicationThread, thread.id).resolved_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    assert ask_missed() == 1
    drain_queues(app)
    assert [s.state for s in surveys()] == ["asked"]
    assert ask_missed() == 0


# --- answering -----------------------------------------------------------------------


def test_the_customers_list_choice_lands_in_the_timeline_without_reopening(
    app, agent, fake_whatsapp, client
):
    thread = conversation(assigned_to_user_id=agent.id)
    resolve(app, thread, agent)
    (survey,) = surveys()
    choice = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[
            {
                "from": CUSTOMER,
                "id": "wamid.rating",
                "timestamp": str(int(time.time())),
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": f"csat:{survey.id}:4", "title": "4 – Tevreden"},
                },
            }
        ],
    )
    deliver(app, client, choice)
    deliver(app, client, choice)  # Meta delivers twice now and then

    survey = db.session.get(CsatResponse, survey.id)
    assert (survey.rating, survey.answer_channel) == (4, "whatsapp")
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.status == ThreadStatus.RESOLVED
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
            CommunicationMessage.message_content.like("Customer rated%"),
        )
    ).all()
    assert lines == ["Customer rated 4/5"]
    assert not db.session.scalar(
        sa.select(CommunicationMessage.id).where(
            CommunicationMessage.external_message_id == "wamid.rating"
        )
    )


def test_a_choice_from_another_number_is_kept_as_a_message(app, agent, fake_whatsapp, client):
    thread = conversation()
    resolve(app, thread, agent)
    (survey,) = surveys()
    deliver(
        app,
        client,
        wa.webhook(
            messages=[
                {
                    "from": "31611111111",
                    "id": "wamid.other",
                    "timestamp": str(int(time.time())),
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": f"csat:{survey.id}:1", "title": "1"},
                    },
                }
            ]
        ),
    )
    assert db.session.get(CsatResponse, survey.id).rating is None
    assert db.session.scalar(
        sa.select(CommunicationMessage.id).where(
            CommunicationMessage.external_message_id == "wamid.other"
        )
    )


@pytest.fixture
def emailed_survey(app, agent, fake_whatsapp):
    thread = conversation(wrote_ago=timedelta(hours=30), email="jan@example.nl")
    resolve(app, thread, agent)
    (survey,) = surveys()
    return survey


def _post(client, token: str, **form):
    """Post the rating form with the CSRF token of this browser's session."""
    if not hasattr(client, "csrf"):
        client.csrf = csrf_token_from(client.get(f"/csat/{token}").text)
    return client.post(f"/csat/{token}", data={"csrf_token": client.csrf, **form})


def test_the_rating_page_validates_and_lets_the_customer_change_for_a_week(
    client, emailed_survey
):
    token = rating_token(emailed_survey.id)
    assert client.get("/csat/not-a-token").status_code == 404
    assert client.get(f"/csat/{token}x").status_code == 404

    page = client.get(f"/csat/{token}")
    assert page.status_code == 200
    assert 'lang="nl"' in page.text and "Hoe tevreden bent u" in page.text
    assert 'data-testid="rate-5"' in page.text
    english = client.get(f"/csat/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "How satisfied are you with our help?" in english.text

    refused = _post(client, token, rating="6")
    assert refused.status_code == 422
    assert 'data-field="rating"' in refused.text

    assert _post(client, token, rating="2").status_code == 200
    changed = _post(client, token, rating="4", comment="Snel geholpen, dank!")
    assert changed.status_code == 200
    db.session.expire_all()
    (survey,) = surveys()
    assert (survey.rating, survey.comment, survey.answer_channel) == (
        4,
        "Snel geholpen, dank!",
        "web",
    )
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .where(CommunicationMessage.message_content.like("Customer rated%"))
        .order_by(CommunicationMessage.created_at)
    ).all()
    assert lines == ["Customer rated 2/5", "Customer rated 4/5: Snel geholpen, dank!"]

    # A week after the first answer it stands.
    survey.answered_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert _post(client, token, rating="1").status_code == 409
    db.session.expire_all()
    assert db.session.get(CsatResponse, survey.id).rating == 4


def test_a_too_long_comment_is_refused_naming_the_field(client, emailed_survey):
    token = rating_token(emailed_survey.id)
    refused = _post(client, token, rating="5", comment="x" * 2001)
    assert refused.status_code == 422 and 'data-field="comment"' in refused.text
    assert db.session.get(CsatResponse, emailed_survey.id).rating is None


# --- analytics -----------------------------------------------------------------------


def test_analytics_scores_ratings_per_agent_team_channel_and_week(app):
    team = factories.team("Support")
    anouk = create_user("anouk@switchboard.test", "Anouk", "agent", PASSWORD, team_id=team.id)
    bram = create_user("bram@switchboard.test", "Bram", "agent", PASSWORD)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    thread = factories.thread(whatsapp, factories.contact())
    now = utcnow()
    for n, (agent, rating) in enumerate([(anouk, 5), (anouk, 4), (anouk, 2), (bram, 3)]):
        db.session.add(
            CsatResponse(
                thread_id=thread.id,
                resolved_at=now - timedelta(minutes=n),
                agent_id=agent.id,
                team_id=agent.team_id,
                channel_id=whatsapp.id,
                state="asked",
                asked_at=now,
                rating=rating,
                answered_at=now,
            )
        )
    # Asked but never answered: not counted.
    db.session.add(
        CsatResponse(
            thread_id=thread.id, resolved_at=now - timedelta(hours=1), state="asked", asked_at=now
        )
    )
    db.session.commit()
    today = now.date()
    f = AnalyticsFilter(today - timedelta(days=6), today + timedelta(days=1))

    by_agent = {row["label"]: row for row in compute("csat_agent", f, now).rows}
    assert by_agent[anouk.name]["n"] == 3
    assert by_agent[anouk.name]["score"] == pytest.approx(200 / 3)
    assert by_agent[anouk.name]["average"] == pytest.approx(11 / 3)
    assert by_agent[bram.name]["score"] == 0
    total = compute("csat_channel", f, now).total
    assert (total["n"], total["score"], total["average"]) == (4, 50.0, 3.5)
    weeks = compute("csat_week", f, now).rows
    assert sum(row["n"] for row in weeks) == 4 and isinstance(weeks[0]["label"], date)

    team_only = AnalyticsFilter(f.first_day, f.last_day, team.id, "Support")
    assert compute("csat_team", team_only, now).total["n"] == 3
    earlier = AnalyticsFilter(today - timedelta(days=60), today - timedelta(days=31))
    assert compute("csat_agent", earlier, now).rows == []


def test_the_analytics_page_shows_satisfaction_to_managers(app, client, auth, make_user):
    manager = make_user("manager", email="manon@switchboard.test")
    auth.login(manager.email)
    page = client.get("/analytics")
    assert page.status_code == 200
    assert 'id="figure-csat_agent"' in page.text and "Customer satisfaction" in page.text
    assert re.search(r'id="figure-csat_week"', page.text)


def test_sandbox_records_the_interactive_list(make_app):
    """Without WhatsApp credentials the sandbox keeps the list a real send would carry."""
    with opened(make_app()) as sandboxed:
        person = create_user("sanne@switchboard.test", "Sanne", "agent", PASSWORD)
        db.session.commit()
        resolve(sandboxed, conversation(), person)
        (send,) = db.session.scalars(
            sa.select(SandboxSend).where(SandboxSend.provider == "whatsapp")
        ).all()
        assert send.request_body["interactive"]["type"] == "list"


def test_erasing_the_customer_erases_their_comment_and_keeps_the_rating(emailed_survey):
    emailed_survey.rating, emailed_survey.comment = 2, "Jan Jansen, Dorpsstraat 1: te laat"
    emailed_survey.answered_at = utcnow()
    db.session.commit()
    erase_contact(emailed_survey.contact_id, actor_id=None)
    commit()
    db.session.expire_all()
    survey = db.session.get(CsatResponse, emailed_survey.id)
    assert (survey.rating, survey.comment) == (2, None)
