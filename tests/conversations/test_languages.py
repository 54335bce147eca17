"""The customer's language: told from what they write, kept on the contact,
shown to the agent above the reply box, and templates in it offered first."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.core import post_outbound
from app.conversations.core.languages import detect_message_language
from app.conversations.gdpr.erasure import erase_contact
from app.conversations.languages import customer_language
from app.conversations.languages.detection import detect_language, own_words
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Contact
from app.platform.models.enums import ChannelType, MessageType, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import customer_writes
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import CUSTOMER_E164, whatsapp_thread

# --- detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("When will the installer come?", "en"),
        ("Wanneer komt de monteur?", "nl"),
        ("Wann kommt der Monteur?", "de"),
        ("Kiedy przyjdzie instalator?", "pl"),
        ("Montajcı ne zaman gelecek?", "tr"),
        ("متى سيأتي الفني؟", "ar"),
        # Two words, one word, nothing: too little to tell, never a guess.
        ("Hallo daar", None),
        ("Yes please", None),
        ("Ok", None),
        ("", None),
        (None, None),
        # Three words, but Dutch and English too close to call.
        ("Ja dat is prima", None),
        # Numbers and an order number are no words.
        ("CC-2026-00042 12:00 ok?", None),
    ],
)
def test_short_customer_messages_are_told_or_left_unclear(text, language):
    assert detect_language(text) == language


def test_a_mail_is_read_by_the_customers_own_words_not_the_quote_or_phone_signature():
    mail = (
        "Goedemiddag, de monteur is vandaag niet gekomen. Kunt u mij bellen?\n\n"
        "Sent from my iPhone\n\n"
        "On Tue, 3 Nov 2026 at 09:12, ChargeCars <klantenservice@chargecars.nl> wrote:\n"
        "> Dear customer, the installer will come tomorrow morning between eight and twelve.\n"
    )
    assert "Sent from" not in own_words(mail) and "installer" not in own_words(mail)
    assert detect_language(mail) == "nl"
    inline = "> Wanneer komt de monteur precies?\nThank you, tomorrow morning works for me."
    assert detect_language(inline) == "en"


# --- the job --------------------------------------------------------------------------


def _customer_message(contact, thread, content, *, minutes_ago=0, **fields):
    return factories.message(
        thread,
        content,
        sender_contact_id=contact.id,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_the_job_stores_the_language_on_message_and_contact_and_can_run_again(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    emma = factories.contact(display_name="Emma Clarke")
    thread = factories.thread(channel, emma)
    message = _customer_message(emma, thread, "Hi, when will the installer come?")
    db.session.commit()
    stamped = message.updated_at
    assert customer_language(emma) == "nl"

    for _ in range(2):
        assert detect_message_language(str(message.id)) == "en"
        db.session.expire_all()
        assert message.language == "en"
        assert emma.detected_language == "en"
        assert customer_language(emma) == "en"
    # Telling the language is no edit.
    assert message.updated_at == stamped


def test_the_contact_keeps_the_language_of_their_newest_clear_message_in_any_job_order(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    emma = factories.contact()
    thread = factories.thread(channel, emma)
    older_dutch = _customer_message(emma, thread, "Wanneer komt de monteur?", minutes_ago=30)
    newer_english = _customer_message(emma, thread, "Sorry, I don't speak Dutch.", minutes_ago=5)
    unclear = _customer_message(emma, thread, "Ok thanks", minutes_ago=1)
    db.session.commit()

    # The newest first, the older one's job late: English stays.
    for message in (newer_english, older_dutch, unclear, older_dutch):
        detect_message_language(str(message.id))
    db.session.expire_all()
    assert [older_dutch.language, newer_english.language, unclear.language] == ["nl", "en", None]
    assert emma.detected_language == "en"


def test_only_a_customers_own_unerased_message_is_read(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    emma = factories.contact()
    thread = factories.thread(channel, emma)
    ours = factories.message(
        thread, "Dear Emma, the installer comes tomorrow.", message_type=MessageType.OUTGOING
    )
    erased = _customer_message(
        emma, thread, "This message was erased with the customer's personal data.",
        extra={"gdpr_erased": True},
    )  # fmt: skip
    db.session.commit()
    assert detect_message_language(str(ours.id)) is None
    assert detect_message_language(str(erased.id)) is None
    db.session.expire_all()
    assert ours.language is None and erased.language is None
    assert emma.detected_language is None


@pytest.mark.parametrize(
    "channel_type", [ChannelType.WHATSAPP_BUSINESS, ChannelType.EMAIL_OUTLOOK, ChannelType.SMS]
)
def test_every_channels_customer_message_is_read_after_its_commit(app, channel_type):
    channel = factories.channel(channel_type)
    emma = factories.contact(display_name="Emma Clarke", email="emma@example.co.uk")
    db.session.commit()
    message = customer_writes(
        channel, emma, f"{channel_type.value}-1", "Could you please tell me the installation date?"
    )
    reply = post_outbound(
        message.thread,
        channel_id=channel.id,
        body="Dear Emma, it is next Tuesday.",
        recipient={"phone": emma.phone},
        send=False,
    )
    commit()
    drain_queues(app)
    db.session.expire_all()
    assert message.language == "en"
    assert reply.language is None  # ours is not read
    assert db.session.get(Contact, emma.id).detected_language == "en"


# --- the thread page ------------------------------------------------------------------


@pytest.fixture
def dutch_agent(auth, make_user):
    agent = make_user("agent", email="anouk@switchboard.test", language="nl")
    auth.login(agent.email)
    return agent


def _set_language(thread, language):
    thread.contact.detected_language = language
    db.session.commit()


def test_the_thread_page_tells_the_agent_the_customer_writes_english(client, dutch_agent):
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    _set_language(thread, "en")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'data-testid="language-hint"' in page
    assert "De klant schrijft in het Engels." in page
    assert 'class="language-hint-icon"' in page  # the drawn globe

    _set_language(thread, "nl")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'data-testid="language-hint"' not in page
    assert "De klant schrijft" not in page


def test_a_language_someone_set_is_named_as_such(client, dutch_agent):
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))
    thread.contact.locale = "de"
    db.session.commit()
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "De taal van de klant is Duits." in page


def _templates():
    dutch = factories.template(
        "Hoi {{customer_name}}, de monteur komt morgen.",
        template_name="monteur_komt",
        display_name="Monteur komt",
        usage_count=200,
    )
    english = factories.template(
        "Hi {{customer_name}}, the installer comes tomorrow.",
        template_name="installer_comes_en",
        display_name="Installer comes",
        language="en_GB",
        usage_count=2,
    )
    db.session.commit()
    return dutch, english


def test_templates_in_the_customers_language_come_first(client, dutch_agent):
    dutch, english = _templates()
    thread = whatsapp_thread(inbound_ago=timedelta(minutes=5))

    def composer_order():
        """Where the English and the Dutch template stand in the template select."""
        page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
        return (page.index(f'value="{english.id}"'), page.index(f'value="{dutch.id}"')), page

    # A Dutch customer: most used first, as before.
    (english_at, dutch_at), page = composer_order()
    assert dutch_at < english_at
    items = client.get(f"/threads/{thread.id}/canned").get_json()["data"]
    assert [i["name"] for i in items] == ["Monteur komt", "Installer comes"]
    assert items[0]["language"] is None

    _set_language(thread, "en")
    (english_at, dutch_at), page = composer_order()
    assert english_at < dutch_at
    assert "Installer comes · Engels" in page
    assert "Sjablonen in het Engels staan bovenaan." in page
    items = client.get(f"/threads/{thread.id}/canned").get_json()["data"]
    assert [(i["name"], i["language"]) for i in items] == [
        ("Installer comes", "Engels"),
        ("Monteur komt", "Nederlands"),
    ]


def test_a_contact_without_detected_language_falls_back_to_locale_then_dutch(app):
    assert customer_language(None) == "nl"
    contact = Contact(display_name="X", locale="en_GB")
    assert customer_language(contact) == "en"
    contact.detected_language = "pl"
    assert customer_language(contact) == "pl"


def test_an_english_customer_seen_once_is_english_in_their_next_conversation(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    emma = factories.contact(phone=CUSTOMER_E164)
    db.session.commit()
    first = customer_writes(channel, emma, "wamid.a", "Hello, is my charger already ordered?")
    drain_queues(app)
    first.thread.status = ThreadStatus.CLOSED
    db.session.commit()
    second = customer_writes(channel, emma, "wamid.b", "Ok")
    assert second.thread_id != first.thread_id
    drain_queues(app)
    db.session.expire_all()
    contact = db.session.scalar(sa.select(Contact).where(Contact.id == emma.id))
    assert second.language is None
    assert customer_language(contact) == "en"
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(CommunicationMessage.language == "en"))
        == 1
    )


def test_erasing_the_person_erases_what_was_told_from_their_words(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    emma = factories.contact(detected_language="en")
    thread = factories.thread(channel, emma)
    message = _customer_message(emma, thread, "When will the installer come?", language="en")
    db.session.commit()
    erase_contact(emma.id, actor_id=None)
    commit()
    # A late job finds an erased message and leaves it alone.
    assert detect_message_language(str(message.id)) is None
    db.session.expire_all()
    assert message.language is None and emma.detected_language is None
