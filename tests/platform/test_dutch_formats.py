"""The walkthrough's Dutch findings: each formatter and label, read in Dutch.

Numbers, units and system-made names once showed the English way to a Dutch reader
("5.7 MB", "100.0%", "7 h 01 min", "Density: comfortable → compact", "idle",
"Erased contact", "Klantenservice → Klantenservice"). Each is checked here in
Dutch, and in English where the English form must stay, so a regression fails
here before a page shows it (the page crawl, tests/e2e/crawl.py, checks the number
formats on every page too).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from app.analytics.charts import tick_text
from app.analytics.tables import DURATION, PERCENT, display, format_duration
from app.conversations.merges.comparison import told_apart
from app.integrations import health
from app.platform.audit.presenters import change_lines
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models.enums import ChannelType
from app.platform.security.bodies import MB, size_label
from app.platform.system_texts import text, thread_type_label
from app.platform.ui import channel_choice, contact_name, local_percent, thread_subject
from tests.support import factories

SEVEN_HOURS = 7 * 3600 + 60


def _lines(changes: dict) -> list[str]:
    return [
        f"{line.field}: {line.value if line.value is not None else f'{line.old} → {line.new}'}"
        for line in change_lines(changes)
    ]


def test_file_sizes_have_the_readers_decimal_sign(app):
    with force_locale("nl"):
        assert size_label(int(5.7 * MB)) == "5,7 MB"
        assert size_label(5 * MB) == "5 MB"
        assert size_label(int(1234.5 * MB)) == "1.234,5 MB"
        assert size_label(840 * 1024) == "840 KB"
    with force_locale("en"):
        assert size_label(int(5.7 * MB)) == "5.7 MB"


def test_durations_write_the_hour_as_the_reader_does(app):
    with force_locale("nl"):
        assert format_duration(SEVEN_HOURS) == "7 u 01 min"
        assert display(SEVEN_HOURS, DURATION) == "7 u 01 min"
        assert format_duration(3 * 86400 + 2 * 3600) == "3 d 2 u"
        assert format_duration(12 * 60) == "12 min" and format_duration(40) == "40 s"
        assert tick_text(2 * 3600, DURATION) == "2 u"
    with force_locale("en"):
        assert format_duration(SEVEN_HOURS) == "7 h 01 min"
        assert tick_text(2 * 3600, DURATION) == "2 h"


def test_percentages_have_the_readers_decimal_sign(app):
    with force_locale("nl"):
        assert local_percent(100.0, 1) == "100,0 %" and local_percent(100.0, 0) == "100 %"
        assert display(94.2, PERCENT) == "94,2 %"
    with force_locale("en"):
        assert local_percent(100.0, 1) == "100.0 %"


def test_health_findings_are_stored_as_system_texts_and_read_in_dutch(app):
    state, finding = health.check_whatsapp({})
    assert state == health.SANDBOX
    assert finding.english() == "no access token or phone number ID: messages are sandboxed"
    with force_locale("nl"):
        assert finding.render() == (
            "geen toegangstoken of telefoonnummer-ID: berichten gaan naar de sandbox"
        )
    # Nothing listens on port 9: the check's own finding, not a provider's words.
    with pytest.raises(health.CheckFailed) as failed:
        health.check_pdok({"PDOK_API_BASE": "http://127.0.0.1:9"})
    assert str(failed.value) == "connection failed (ConnectionError)"
    with force_locale("nl"):
        assert failed.value.finding.render() == "verbinding mislukt (ConnectionError)"


def test_audit_values_and_fields_are_named_in_dutch(app):
    changes = {
        "density": {"from": "comfortable", "to": "compact"},
        "language": {"from": None, "to": "nl"},
        "role": {"from": "agent", "to": "team_lead"},
        "moved": {"tasks": 0, "messages": 3},
        "sessions": "ended",
    }
    with force_locale("nl"):
        assert _lines(changes) == [
            "Weergavedichtheid: ruim → compact",
            "Taal: — → Nederlands",
            "Rol: Medewerker → Teamleider",
            "Verplaatst: Berichten: 3, Taken: 0",
            "Sessies: beëindigd",
        ]
    with force_locale("en"):
        assert _lines({"language": {"from": "nl", "to": "en"}}) == ["Language: Dutch → English"]


def test_worker_states_are_words(app):
    with force_locale("nl"):
        assert label("idle", "worker_state") == "wacht op werk"
        assert label("busy", "worker_state") == "bezig"
    with force_locale("en"):
        assert label("idle", "worker_state") == "idle"


def test_an_erased_contact_and_conversation_read_in_the_readers_language(app):
    person = factories.contact(display_name="Erased contact", email=None, phone=None)
    thread = factories.thread(None, person, thread_subject="Erased conversation")
    someone = factories.contact(display_name="Erased contact")  # not erased: their own name
    person.erased_at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    db.session.flush()
    with force_locale("nl"):
        assert contact_name(person) == "Gewist contact"
        assert thread_subject(thread) == "Gewist gesprek"
        assert contact_name(someone) == "Erased contact"
    with force_locale("en"):
        assert contact_name(person) == "Erased contact"


def test_a_routing_reason_names_the_team_once(app):
    support, technical = thread_type_label("customer_support"), thread_type_label("technical_issue")
    doubled = text("routing.rule", thread_type=support, team="Klantenservice")
    other = text("routing.rule", thread_type=technical, team="Techniek")
    demo = text("routing.auto_to", user="Sanne Bakker", team="Klantenservice")
    with force_locale("nl"):
        assert doubled.render() == "Team Klantenservice"
        assert other.render() == "Technisch probleem → Techniek"
        assert demo.render() == (
            "Automatisch toegewezen aan Sanne Bakker in team Klantenservice (laagste werkvoorraad)"
        )
    with force_locale("en"):  # "Customer support" is not "Klantenservice": both stay
        assert doubled.render() == doubled.english() == "Customer support → Klantenservice"


def test_a_channel_named_after_its_type_is_named_once(app):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook klantenservice")
    with force_locale("nl"):
        assert channel_choice(whatsapp) == "WhatsApp Business"
        assert channel_choice(mail) == "E-mail · Outlook klantenservice"


def test_two_contacts_with_one_name_are_told_apart(app):
    created = datetime(2026, 6, 11, 9, 0, tzinfo=timezone.utc)
    kept = factories.contact(display_name="Sara de Jong", phone="+31608620251", created_at=created)
    other = factories.contact(display_name="Sara de Jong", phone="+31687105940", email="s@live.nl")
    assert told_apart(kept, other) == (
        "Sara de Jong (+31608620251)",
        "Sara de Jong (+31687105940)",
    )
    other.phone = kept.phone  # one phone: their e-mail addresses tell them apart
    assert told_apart(kept, other) == (
        f"Sara de Jong ({kept.email})",
        "Sara de Jong (s@live.nl)",
    )
    for contact in (kept, other):
        contact.phone = contact.email = None
    other.created_at = datetime(2026, 7, 3, 9, 0, tzinfo=timezone.utc)
    with force_locale("nl"):
        assert told_apart(kept, other) == (
            "Sara de Jong (aangemaakt op 11 jun 2026)",
            "Sara de Jong (aangemaakt op 03 jul 2026)",
        )
        other.created_at = created.replace(minute=30)  # the same day: the time too
        assert told_apart(kept, other)[1] == "Sara de Jong (aangemaakt op 11 jun 2026 11:30)"
    different = factories.contact(display_name="Jan Jansen")
    assert told_apart(kept, different) == ("Sara de Jong", "Jan Jansen")
