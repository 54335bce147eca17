"""Notifications, the self-assignment line and the mail quote go through the catalogue.

A notification's title and message are stored as catalogue sentences and shown
in the reader's language in the bell panel and the live push; the English stays
in ``title``/``message`` for the API. The locale is set as tests/platform/test_system_texts.py does.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.conversations.notifications import services as notification_services
from app.conversations.notifications.services import create_notification
from app.conversations.workspace.editing import update_thread
from app.conversations.workspace.email_reply import quote_intro
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType
from app.platform.system_texts import text, verbatim
from app.platform.transactions import commit
from app.seed.demo import agent_signature_text
from tests.support import factories
from tests.support.helpers import reader_language

ENGLISH = [
    "Jan Jansen replied: Laadpaal",
    "Hallo, mijn laadpaal doet het niet",  # the customer's words stay his
    "Partner order to review",
    "Groendus: Order 12 — 87% sure. Check and approve.",
    "SLA: Laadpaal",
    "75% of the response time used. Answer due 23-11-2026 09:00.",
]
DUTCH = [
    "Jan Jansen heeft gereageerd: Laadpaal",
    "Hallo, mijn laadpaal doet het niet",
    "Partnerorder ter controle",
    "Groendus: Order 12 — 87% zeker. Controleer en keur goed.",
    "SLA: Laadpaal",
    "75% van de reactietijd verbruikt. Antwoord uiterlijk 23-11-2026 09:00.",
]


speak = pytest.fixture(reader_language, name="speak")


def _notify(user):
    create_notification(
        user.id,
        "customer_reply",
        text("notification.customer_reply", sender="Jan Jansen", subject="Laadpaal"),
        verbatim("Hallo, mijn laadpaal doet het niet"),
    )
    create_notification(
        user.id,
        "order_draft_review",
        text("notification.draft_review"),
        text(
            "notification.draft_review_body",
            partner="Groendus",
            subject="Order 12",
            confidence=87,
        ),
    )
    stage = text("sla_step.used", percent=75)
    notification = create_notification(
        user.id,
        "sla_first_reminder",
        text("notification.sla", subject="Laadpaal"),
        text("notification.sla_answer_due", stage=stage, due="23-11-2026 09:00"),
    )
    notification.created_at = datetime(2026, 11, 22, 13, 25, tzinfo=timezone.utc)
    commit()
    return notification


@pytest.mark.parametrize(
    ("language", "own", "foreign"),
    [("en", ENGLISH, DUTCH), ("nl", DUTCH, ENGLISH)],
)
def test_the_bell_panel_reads_in_the_readers_language(
    client, auth, make_user, speak, language, own, foreign
):
    agent = make_user("agent")
    _notify(agent)
    auth.login(agent.email)
    speak(language)
    html = client.get("/notifications").get_data(as_text=True).replace("&#39;", "'")
    for sentence in own:
        assert sentence in html
    for sentence in set(foreign) - set(own):
        assert sentence not in html
    # Dates as elsewhere in the app (the local_time filter): 14:25 in Amsterdam,
    # the month named in the reader's language.
    assert ("22 Nov 14:25" if language == "en" else "22 nov 14:25") in html


def test_the_english_is_kept_for_the_api(client, auth, make_user, speak):
    agent = make_user("agent")
    _notify(agent)
    auth.login(agent.email)
    speak("nl")
    data = client.get("/api/notifications").get_json()["data"]
    titles = {item["title"] for item in data}
    assert titles == {"Jan Jansen replied: Laadpaal", "Partner order to review", "SLA: Laadpaal"}


def test_the_live_push_is_rendered_for_its_recipient(app, make_user, monkeypatch):
    pushed = []
    monkeypatch.setattr(
        notification_services,
        "publish_to_users",
        lambda event, data, users: pushed.append(data),
    )
    dutch, english = make_user("agent"), make_user("agent")
    dutch.language = "nl"
    for user in (dutch, english):
        notification_services.announce(_notify(user))
    assert pushed[0]["title"] == "SLA: Laadpaal"
    assert pushed[0]["message"] == DUTCH[-1]
    assert pushed[1]["message"] == ENGLISH[-1]


def test_a_plain_string_is_refused(app, make_user):
    agent = make_user("agent")
    with pytest.raises(TypeError):
        create_notification(agent.id, "test", "Test notification")
    with pytest.raises(TypeError):
        create_notification(agent.id, "test", text("notification.test"), "plain words")


def test_taking_a_conversation_oneself_says_so(app, make_user, speak):
    agent = make_user("agent")
    thread = factories.thread(
        factories.channel(ChannelType.WHATSAPP_BUSINESS),
        factories.contact(display_name="Jan Jansen", phone="+31612345678"),
    )
    db.session.commit()
    lines = update_thread(
        thread,
        agent,
        expected_version=thread.lock_version,
        changes={"assigned_to_user_id": str(agent.id)},
    )
    assert [line.english() for line in lines] == ["Test agent took the conversation"]
    speak("nl")
    assert lines[0].render() == "Test agent heeft het gesprek overgenomen"


def test_the_quote_line_of_a_mail_reply_is_in_dutch(app, speak):
    speak("en")  # the agent reads English; the customer still gets Dutch
    contact = factories.contact(display_name="Femke de Groot", email="femke@example.nl")
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK), contact)
    message = factories.message(thread, "Hallo", sender_contact_id=contact.id)
    message.created_at = datetime(2026, 11, 22, 12, 11, tzinfo=timezone.utc)
    db.session.commit()
    message = db.session.get(CommunicationMessage, message.id)
    assert quote_intro(message) == "Op 22-11-2026 om 13:11 schreef Femke de Groot:"


def test_demo_agents_sign_in_dutch():
    assert agent_signature_text("Anouk de Vries") == (
        "Met vriendelijke groet,\nAnouk de Vries\nKlantenservice ChargeCars"
    )
