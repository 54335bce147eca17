"""System texts in one catalogue, one language per reader; automatic senders.

The locale is set directly (the app's locale selector is replaced); choosing it
per user (users.language, the browser) is tested in tests/platform/test_i18n.py.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.conversations.assignment.services import Pick, describe_pick
from app.conversations.channels.email.reminders import send_visit_reminders
from app.conversations.core import post_outbound, record_status_line
from app.conversations.workspace.editing import update_thread
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, MessageType, OrderStatus, Priority, ThreadStatus
from app.platform.system_texts import CATALOGUE, hours_text, text
from app.platform.transactions import commit
from tests.conversations.test_sendgrid import make_order
from tests.support import factories
from tests.support.helpers import reader_language

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

ENGLISH_LINES = [
    "Test team_lead changed the status from open to waiting customer",
    "Test team_lead changed the priority from normal to urgent",
    "Test team_lead set the tags to laadpaal",
    "No answer within the response time: escalated to management.",
    "Escalated: unanswered for 2 business hours → Management; "
    "left in the Management queue: nobody is available",
]
DUTCH_LINES = [
    "Test team_lead heeft de status gewijzigd van open naar wacht op de klant",
    "Test team_lead heeft de prioriteit gewijzigd van normaal naar urgent",
    "Test team_lead heeft de labels ingesteld op laadpaal",
    "Geen antwoord binnen de reactietijd: geëscaleerd naar het management.",
    "Geëscaleerd: 2 werkuren onbeantwoord → Management; "
    "in de wachtrij van Management gelaten: niemand is beschikbaar",
]
ENGLISH_SENDERS = ["Automatic reply", "Order status update", "Visit reminder"]
DUTCH_SENDERS = ["Automatisch antwoord", "Wijziging orderstatus", "Herinnering bezoek"]


def _entries(catalog) -> dict:
    """msgid → msgstr; a plural entry as (singular, plural) → (each form, …), which
    read_po gives as tuples and read_mo as lists; a text with a context (``pgettext``)
    as (context, msgid), apart from the same msgid without one."""

    def hashable(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def key(message):
        context = message.context
        if isinstance(context, bytes):  # read_mo leaves it undecoded
            context = context.decode()
        return (context, hashable(message.id)) if context else hashable(message.id)

    return {key(m): hashable(m.string) for m in catalog if m.id}


def _catalogue(po_path: Path) -> dict:
    with po_path.open("rb") as po:
        return _entries(read_po(po))


def test_every_system_text_has_a_dutch_translation():
    dutch = _catalogue(TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po")
    for key, msgid in CATALOGUE.items():
        assert dutch.get(msgid), f"{key}: no Dutch for {msgid!r}"
        assert sorted(re.findall(r"%\(\w+\)s", dutch[msgid])) == sorted(
            re.findall(r"%\(\w+\)s", msgid)
        ), f"{key}: the Dutch names other parameters"


def _translated(entries: dict) -> dict:
    """The entries whose translation is not simply the msgid.

    The English catalogue leaves every msgstr empty (the msgids are English):
    ``pybabel compile`` leaves such an entry out of the .mo, or writes a plural
    one with its msgids; either way gettext shows the msgid.
    """
    return {
        key: value
        for key, value in entries.items()
        if value and value != key and (not isinstance(value, tuple) or all(value))
    }


def test_the_committed_mo_files_match_their_po_files():
    """The .mo files are committed (no compile step on a fresh clone); they must be current."""
    po_files = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert {path.parts[-3] for path in po_files} >= {"en", "nl"}
    for po_path in po_files:
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{po_path}: not compiled, run `make translations`"
        with mo_path.open("rb") as mo:
            compiled = _translated(_entries(read_mo(mo)))
        assert compiled == _translated(_catalogue(po_path)), f"{po_path}: run `make translations`"


def test_the_english_catalogue_holds_every_marked_text():
    """English is a language of its own: every msgid of the template is in its catalogue."""
    with (TRANSLATIONS / "messages.pot").open("rb") as pot:
        marked = {key for key in _entries(read_po(pot))}
    assert marked <= set(_catalogue(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"))


def test_a_parameter_the_catalogue_lacks_is_refused_where_the_line_is_written():
    with pytest.raises(KeyError):
        text("edit.status", actor="Anouk")
    with pytest.raises(KeyError):
        text("no.such.text")


speak = pytest.fixture(reader_language, name="speak")


def _timeline_with_everything(make_user):
    lead = make_user("team_lead")
    management = factories.team("Management")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(whatsapp, contact, thread_subject="Laadpaal", minutes_ago=30)
    factories.message(thread, "Hallo, mijn laadpaal doet het niet", sender_contact_id=contact.id)
    db.session.commit()
    update_thread(
        thread,
        lead,
        expected_version=thread.lock_version,
        changes={
            "status": ThreadStatus.WAITING_CUSTOMER.value,
            "priority": Priority.URGENT.value,
            "tags": ["laadpaal"],
        },
    )
    record_status_line(thread, text("sla.escalated"))
    nobody = Pick(None, why_nobody=text("routing.nobody_available"))
    record_status_line(
        thread,
        [
            text("routing.escalated_to_team", hours=hours_text(2), team=management.name),
            *describe_pick(nobody, management),
        ],
    )
    for automation, message_type in (
        ("out_of_hours", MessageType.AUTO_RESPONSE),
        ("order_milestone", MessageType.SYSTEM_NOTIFICATION),
    ):
        post_outbound(
            thread,
            channel_id=whatsapp.id,
            body="Bedankt voor uw bericht.",
            recipient={"phone": contact.phone},
            message_type=message_type,
            automation=automation,
            send=False,
        )
    commit()
    return lead, thread


def _visit_reminder_thread(make_user):
    now = datetime.now(AMSTERDAM).replace(hour=10, minute=0, second=0, microsecond=0)
    technician = make_user("technician", phone="+31611112222")
    make_order(
        "CC-2026-00010",
        scheduled=now.date() + timedelta(days=1),
        assigned_technician_id=technician.id,
        status=OrderStatus.SCHEDULED,
    )
    assert send_visit_reminders(now=now) == 1
    [mail] = db.session.scalars(db.select(CommunicationMessage)).all()
    return mail


def _system_lines(html: str) -> list[str]:
    lines = re.findall(r'<p class="tl-system"[^>]*>(.*?) · <time', html, flags=re.S)
    return [" ".join(line.split()).replace("&gt;", ">") for line in lines]


def _senders(html: str) -> list[str]:
    return re.findall(r'<span class="sender-auto"[^>]*>([^<]+)</span>', html)


@pytest.mark.parametrize(
    ("language", "lines", "senders", "foreign"),
    [
        ("en", ENGLISH_LINES, ENGLISH_SENDERS[:2], DUTCH_LINES + DUTCH_SENDERS),
        ("nl", DUTCH_LINES, DUTCH_SENDERS[:2], ENGLISH_LINES + ENGLISH_SENDERS),
    ],
)
def test_one_timeline_reads_in_one_language(
    client, auth, make_user, speak, language, lines, senders, foreign
):
    lead, thread = _timeline_with_everything(make_user)
    auth.login(lead.email)
    speak(language)
    html = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    # One edit writes its lines at one moment, in no particular order.
    assert sorted(_system_lines(html)) == sorted(lines)
    assert _senders(html) == senders
    for other in foreign:
        assert other not in html


def test_english_stays_stored_for_search_and_the_api(app, make_user):
    _, thread = _timeline_with_everything(make_user)
    lines = db.session.scalars(
        db.select(CommunicationMessage).where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
        )
    ).all()
    # The milestone notice is a system message too, but an automatic one.
    stored = [line.message_content for line in lines if "automation" not in line.extra]
    assert sorted(stored) == sorted(ENGLISH_LINES)


def test_older_lines_without_a_key_are_shown_as_stored(client, auth, make_user, speak):
    agent = make_user("agent")
    thread = factories.thread(factories.channel(), factories.contact())
    factories.message(
        thread, "Handmatig toegewezen aan Anouk", message_type=MessageType.SYSTEM_NOTIFICATION
    )
    db.session.commit()
    auth.login(agent.email)
    speak("en")
    html = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    assert _system_lines(html) == ["Handmatig toegewezen aan Anouk"]


def test_a_visit_reminder_shows_what_it_is_not_how_it_was_sent(client, auth, make_user, speak):
    mail = _visit_reminder_thread(make_user)
    commit()
    assert mail.extra["automation"] == "visit_reminder"
    agent = make_user("agent")
    auth.login(agent.email)
    speak("nl")
    html = client.get(f"/threads/{mail.thread_id}/timeline").get_data(as_text=True)
    assert _senders(html) == ["Herinnering bezoek"]
    assert "E-mail “Herinnering bezoek” verstuurd." in html
    assert "Unknown" not in html
    assert "SendGrid" not in html and "d-visit-reminder-2025" not in html
    speak("en")
    html = client.get(f"/threads/{mail.thread_id}/timeline").get_data(as_text=True)
    assert _senders(html) == ["Visit reminder"]
    assert "“Visit reminder” e-mail sent." in html


def test_admins_see_the_provider_template_in_a_tooltip(client, auth, make_user):
    mail = _visit_reminder_thread(make_user)
    commit()
    admin = make_user("admin")
    auth.login(admin.email)
    html = client.get(f"/threads/{mail.thread_id}/timeline").get_data(as_text=True)
    assert 'title="SendGrid template d-visit-reminder-2025 (visit_reminder)"' in html


def test_an_automatic_reply_without_a_kind_from_before_is_still_labelled(client, auth, make_user):
    agent = make_user("agent")
    thread = factories.thread(factories.channel(), factories.contact())
    factories.message(thread, "We zijn gesloten.", message_type=MessageType.AUTO_RESPONSE)
    db.session.commit()
    auth.login(agent.email)
    html = client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True)
    assert _senders(html) == ["Automatic reply"]
    assert "Unknown" not in html
