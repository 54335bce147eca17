"""WhatsApp out-of-hours auto-response: once per conversation window, saying when we open."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.conversations.channels.whatsapp import out_of_hours
from app.conversations.channels.whatsapp.inbound import receive_message
from app.conversations.channels.whatsapp.out_of_hours import describe_opening, desk_calendar
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, InboundWebhookEvent
from app.platform.models.enums import (
    ChannelType,
    MessageType,
    TemplateCategory,
    TemplateChannelType,
)
from app.platform.models.sla import BusinessCalendar
from app.platform.webhooks import processing
from tests.conftest import TEST_DATABASE_URL
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.helpers import race, raised
from tests.support.whatsapp_support import (
    CUSTOMER,
    customer_text,
    deliver,
    fake_whatsapp_server,
    messages,
    only_thread,
    whatsapp_app,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()


fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")


def _calendar(*, closed_days: int = 0, always_open: bool = False) -> BusinessCalendar:
    """Open 08:00–17:00 every day, but closed today and the next ``closed_days - 1`` days."""
    today = utcnow().astimezone(AMSTERDAM).date()
    calendar = BusinessCalendar(
        name=f"Test {time.monotonic_ns()}",
        weekly_hours={
            day: [["00:00", "24:00"]] if always_open else [["08:00", "17:00"]] for day in EVERY_DAY
        },
        holiday_country=None,
        closed_dates=[(today + timedelta(days=n)).isoformat() for n in range(closed_days)],
    )
    db.session.add(calendar)
    db.session.flush()
    return calendar


def _channel(calendar: BusinessCalendar | None, **configuration):
    channel = factories.channel(
        ChannelType.WHATSAPP_BUSINESS,
        channel_name="WhatsApp Business",
        business_calendar_id=calendar.id if calendar else None,
        configuration=configuration,
    )
    db.session.commit()
    return channel


def _template(body: str, **fields):
    fields.setdefault("whatsapp_template_name", "out_of_hours")
    template = factories.template(
        body,
        template_category=TemplateCategory.AUTO_RESPONSE,
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        **fields,
    )
    db.session.commit()
    return template


def _opening_words(days_ahead: int) -> str:
    day = utcnow().astimezone(AMSTERDAM).date() + timedelta(days=days_ahead)
    if days_ahead == 1:
        return "morgen om 08:00"
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} om 08:00"


def _auto_responses():
    return messages(MessageType.AUTO_RESPONSE)


def test_a_burst_out_of_hours_gets_one_reply_saying_when_we_open(app, client, fake_whatsapp):
    _channel(_calendar(closed_days=2))
    template = _template("Hoi {{customer_name}}, we zijn gesloten. Weer open: {{next_opening}}.")
    burst = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[
            wa.text_message(CUSTOMER, "Hallo?", "wamid.b1", int(time.time()) - 3),
            wa.text_message(CUSTOMER, "Mijn laadpaal doet niks", "wamid.b2", int(time.time()) - 2),
        ],
    )
    deliver(app, client, burst)
    deliver(app, client, customer_text("Iemand daar?", wamid="wamid.b3"))

    [reply] = _auto_responses()
    expected = f"Hoi Jan Jansen, we zijn gesloten. Weer open: {_opening_words(2)}."
    assert reply.message_content == expected
    assert reply.template_id == template.id
    assert reply.extra["auto_response"] == "out_of_hours"
    assert reply.extra["automation"] == "out_of_hours"
    assert reply.thread_id == only_thread().id
    # Inside the customer's 24-hour window: sent as free text, answering the first message.
    assert fake_whatsapp.sent() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": "text",
            "text": {"preview_url": False, "body": expected},
            "context": {"message_id": "wamid.b1"},
        }
    ]
    # It is not the desk's answer: the reply is still owed.
    thread = only_thread()
    assert thread.first_response_at is None
    assert thread.response_due_at is not None


def test_no_reply_during_opening_hours(app, client, fake_whatsapp):
    _channel(_calendar(always_open=True))
    _template("Gesloten, open {{next_opening}}.")
    deliver(app, client, customer_text("Hallo"))
    assert _auto_responses() == []
    assert fake_whatsapp.sent() == []


def test_a_new_window_after_the_desk_answered_or_a_day_passed(app, client, fake_whatsapp):
    _channel(_calendar(closed_days=1))
    _template("Gesloten, open {{next_opening}}.")
    deliver(app, client, customer_text("Eerste", wamid="wamid.w1"))
    [first] = _auto_responses()
    assert first.message_content == f"Gesloten, open {_opening_words(1)}."

    # The desk answers (an agent on call): the next message opens a new window.
    factories.message(
        only_thread(),
        "We kijken er morgen naar",
        message_type=MessageType.OUTGOING,
        created_at=utcnow(),
    )
    db.session.commit()
    deliver(app, client, customer_text("Tweede", wamid="wamid.w2"))
    assert len(_auto_responses()) == 2

    # Unanswered, but the last auto-response is more than 24 hours old.
    for reply in _auto_responses():
        reply.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    deliver(app, client, customer_text("Derde", wamid="wamid.w3"))
    assert len(_auto_responses()) == 3
    deliver(app, client, customer_text("Vierde", wamid="wamid.w4"))
    assert len(_auto_responses()) == 3


def test_configured_template_wins_and_learns_the_opening_when_it_lacks_one(app, client):
    _channel(_calendar(closed_days=1), out_of_hours_template="Nachtbericht")
    _template("Gesloten, open {{next_opening}}.")
    _template("Dank voor uw bericht!", template_name="Nachtbericht", whatsapp_template_name=None)
    deliver(app, client, customer_text("Hallo"))
    [reply] = _auto_responses()
    assert reply.message_content == (
        f"Dank voor uw bericht!\n\nWe zijn weer bereikbaar vanaf {_opening_words(1)}."
    )


def test_a_customer_who_writes_english_gets_the_english_translation(app, client):
    """The walkthrough: an English household got the Dutch answer. A template of the same
    WhatsApp name in the customer's language (Meta's translation) answers them."""
    channel = _channel(_calendar(closed_days=1))
    dutch = _template("Gesloten, open {{next_opening}}.")
    english = _template("Closed now, open again {{next_opening}}.",
                        template_name="out_of_hours_en", language="en")
    assert out_of_hours.out_of_hours_template(channel, "en") == english
    assert out_of_hours.out_of_hours_template(channel, "nl") == dutch
    assert out_of_hours.out_of_hours_template(channel, "de") == dutch  # none in German

    # The message's language is told as it is stored, so even a first message is
    # answered in it.
    deliver(app, client, customer_text("Hello, anyone there?"))
    [first] = _auto_responses()
    assert first.template_id == english.id
    assert only_thread().contact.detected_language == "en"
    db.session.delete(first)  # as if a day had passed: a new window
    db.session.commit()
    # Too short to tell ("Ok?"): the contact's language from before answers.
    deliver(app, client, customer_text("Any news?", wamid="wamid.in2"))
    [reply] = _auto_responses()
    assert reply.template_id == english.id
    assert reply.message_content == "Closed now, open again tomorrow at 08:00."


def test_a_first_message_too_short_to_tell_gets_the_default(app, client):
    channel = _channel(_calendar(closed_days=1))
    dutch = _template("Gesloten, open {{next_opening}}.")
    _template("Closed now.", template_name="out_of_hours_en", language="en")
    assert out_of_hours.out_of_hours_template(channel, "en") is not None
    deliver(app, client, customer_text("Hello?"))
    [first] = _auto_responses()
    assert first.template_id == dutch.id


def test_switched_off_or_without_template_nothing_is_sent(app, client, fake_whatsapp):
    _channel(_calendar(closed_days=1), auto_responses=False)
    _template("Gesloten, open {{next_opening}}.")
    deliver(app, client, customer_text("Hallo", wamid="wamid.off"))
    assert _auto_responses() == []


def test_inactive_template_means_no_reply(app, client, fake_whatsapp):
    _channel(_calendar(closed_days=1))
    _template("Gesloten, open {{next_opening}}.", is_active=False)
    deliver(app, client, customer_text("Hallo"))
    assert _auto_responses() == []
    assert fake_whatsapp.sent() == []


def test_configured_business_hours_apply_when_the_channel_has_no_calendar(app):
    channel = _channel(None, business_hours="09:00-12:30")
    calendar = desk_calendar(channel)
    assert calendar.weekly_hours["mon"] == [["09:00", "12:30"]]
    assert calendar.weekly_hours["sat"] == []
    assert calendar.holiday_country == "NL"
    own = _channel(_calendar(always_open=True), business_hours="09:00-12:30")
    assert desk_calendar(own).weekly_hours["mon"] == [["00:00", "24:00"]]


def test_the_opening_is_said_in_plain_words():
    now = datetime(2026, 1, 9, 20, 0, tzinfo=timezone.utc)  # Friday evening
    monday = now.replace(day=12, hour=7)
    assert describe_opening(monday, now, "Europe/Amsterdam") == "maandag 12 januari om 08:00"
    assert describe_opening(monday, now, "Europe/Amsterdam", "en") == ("Monday 12 January at 08:00")
    saturday = now.replace(day=10, hour=8)
    assert describe_opening(saturday, now, "Europe/Amsterdam") == "morgen om 09:00"
    assert describe_opening(now.replace(hour=21), now, "Europe/Amsterdam") == "vandaag om 22:00"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL's row locks (CI runs it)")
def test_two_workers_handling_a_burst_at_once_send_one_reply(app, fake_whatsapp):
    """Two messages of one conversation processed at the same moment by two workers."""
    channel = _channel(_calendar(closed_days=1))
    _template("Gesloten, open {{next_opening}}.")
    whatsapp_thread_with_jan(channel)
    channel_id = channel.id  # the threads below must not touch this session's objects

    def receive(index: int) -> None:
        message = wa.text_message(CUSTOMER, "Hallo?", f"wamid.c{index + 1}", int(time.time()))
        receive_message(db.session.get(CommunicationChannel, channel_id), message, "Jan")

    assert raised(race(app, receive)) == []
    db.session.expire_all()
    assert len(messages(MessageType.INCOMING)) == 3
    assert len(_auto_responses()) == 1


def whatsapp_thread_with_jan(channel):
    jan = factories.contact(display_name="Jan Jansen", phone="+" + CUSTOMER, email=None)
    thread = factories.thread(channel, jan, thread_subject="Laadpaal")
    factories.message(thread, "Eerder", sender_contact_id=jan.id, created_at=utcnow())
    db.session.commit()
    return thread


def _process_text(wamid: str, text: str, phone: str = CUSTOMER) -> None:
    payload = wa.webhook(
        contacts=[wa.contact(phone, "Jan Jansen")],
        messages=[wa.text_message(phone, text, wamid, int(time.time()))],
    )
    body, _ = wa.signed(payload, "unused")
    event = InboundWebhookEvent(source="whatsapp", dedupe_key=wamid, raw_body=body)
    db.session.add(event)
    db.session.commit()
    processing.process_event(str(event.id))


def test_with_settings_kept_a_closed_desk_reads_its_template_choice_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "CONFIGURATION_CACHE_SECONDS", 5)
    out_of_hours._templates.clear()
    _channel(_calendar(closed_days=1))
    _process_text("wamid.k1", "Hallo")  # no template: nothing sent, and that is kept
    template_reads: list[str] = []
    this_thread = threading.get_ident()

    def statement(conn, cursor, text, parameters, context, executemany):
        if threading.get_ident() == this_thread and "FROM communication_template" in text:
            template_reads.append(text)

    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        _process_text("wamid.k2", "Nog iemand?")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert template_reads == [] and _auto_responses() == []

    # A kept template that is switched off is not used: the choice is made again.
    out_of_hours._templates.clear()
    template = _template("Gesloten, open {{next_opening}}.")
    _process_text("wamid.k3", "Hallo weer")
    assert len(_auto_responses()) == 1
    # Kept, it answers the next conversation without reading the template's row.
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        _process_text("wamid.k3b", "Ook een vraag", phone="31612340000")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert [s for s in template_reads if s.startswith("SELECT communication_template.")] == []
    assert len(_auto_responses()) == 2
    template.is_active = False
    db.session.commit()
    _process_text("wamid.k4", "En nu?", phone="31687654321")  # another conversation
    assert len(_auto_responses()) == 2
