"""The visit card, the reminder's words, and the phone conversation."""

from __future__ import annotations

import re
import uuid
from datetime import date

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app.conversations.message_templates.visit_moment import parse_time_window, visit_moment
from app.conversations.workspace.services import add_note
from app.orders.mobile.conversation import order_thread
from app.orders.mobile.quick_replies import quick_replies_for, quick_reply_templates
from app.orders.mobile.services import local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationTemplate
from app.platform.models.enums import MessageType, TemplateCategory
from app.platform.transactions import commit
from tests.support import factories
from tests.support.mobile_support import visit

HTMX = {"HX-Request": "true"}
DAY = date(2026, 11, 22)


def _sign_in(auth, user):
    auth.login(user.email)
    return auth.csrf_token("/m/")


def test_time_windows_are_read_from_the_intake_text():
    middag = parse_time_window("middag (12:00-17:00)")
    assert (middag.name, middag.start, middag.end, middag.all_day) == (
        "middag",
        "12:00",
        "17:00",
        False,
    )
    assert parse_time_window("tussen 08:00 en 12:00").start == "08:00"
    all_day = parse_time_window("hele dag beschikbaar")
    assert all_day.all_day and all_day.start is None
    assert parse_time_window("ochtend").name == "ochtend"
    assert parse_time_window("") is None


def test_the_visit_moment_says_today_on_the_day_and_reads_naturally_all_day():
    middag = parse_time_window("middag (12:00-17:00)")
    assert visit_moment(DAY, middag, DAY) == "vandaag tussen 12:00 en 17:00"
    assert visit_moment(DAY, parse_time_window("hele dag beschikbaar"), DAY) == (
        "vandaag, de hele dag"
    )
    assert visit_moment(date(2026, 11, 23), middag, DAY) == (
        "morgen (23-11-2026) tussen 12:00 en 17:00"
    )
    assert visit_moment(date(2026, 11, 30), None, DAY) == "op 30-11-2026"
    assert visit_moment(DAY, middag, DAY, "en") == "today between 12:00 and 17:00"
    # English readers get the month in words: 02-12-2026 reads as the 12th of February.
    assert visit_moment(date(2026, 12, 2), None, DAY, "en") == "on 2 December 2026"


def test_the_reminder_quick_reply_says_today_on_the_visit_day(app, make_user):
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False, preferences={"time_window": "hele dag beschikbaar"})
    factories.template(
        "Hoi {{customer_name}}, een herinnering aan de installatie van uw laadpaal. "
        "Wanneer: {{visit_moment}}. Monteur: {{technician_name}}.",
        template_name="visit_reminder_sms",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    db.session.commit()
    replies = quick_replies_for(order, None, tech, local_today(), quick_reply_templates())
    assert [reply.preview for reply in replies] == [
        "Hoi Jan Jansen, een herinnering aan de installatie van uw laadpaal. "
        f"Wanneer: vandaag, de hele dag. Monteur: {tech.name}."
    ]


def test_the_card_shows_window_address_and_site_notes_sorted_by_time(client, auth, make_user):
    tech = make_user("technician")
    visit(
        tech,
        number="CC-2026-00003",
        preferences={"time_window": "hele dag beschikbaar"},
    )
    visit(
        tech,
        number="CC-2026-00002",
        preferences={
            "time_window": "middag (12:00-17:00)",
            "access_notes": "Poortcode 4711, hond in de tuin",
        },
    )
    visit(
        tech,
        number="CC-2026-00009",
        preferences={"time_window": "ochtend (08:00-12:00)"},
    )
    visit(
        tech,
        number="CC-2026-00001",
        preferences={"time_window": "middag (12:00-17:00)"},
    )
    _sign_in(auth, tech)
    page = client.get("/m/").get_data(as_text=True)
    numbers = re.findall(r'data-order="(CC-2026-\d+)"', page)
    assert numbers == ["CC-2026-00009", "CC-2026-00001", "CC-2026-00002", "CC-2026-00003"]
    cards = dict(zip(numbers, page.split('data-testid="visit"')[1:], strict=True))
    assert "middag 12:00–17:00" in cards["CC-2026-00002"]
    assert ">all day<" in cards["CC-2026-00003"]
    # Outside the folded "Order details": the gate code, the notes, the address as a maps link.
    head = cards["CC-2026-00002"].split("<details")[0]
    assert "Poortcode 4711, hond in de tuin" in head and "Meterkast in de garage" in head
    assert re.search(
        r'<a href="https://www\.google\.com/maps/search/\?api=1&amp;query=[^"]+"[^>]*'
        r'data-testid="visit-address">Stationsstraat 12 A',
        head,
    )


def test_the_card_leads_to_the_phone_conversation_and_no_desk_page(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    _sign_in(auth, tech)
    page = client.get("/m/").get_data(as_text=True)
    assert f'href="/m/visits/{order.id}/conversation"' in page
    for link in re.findall(r'href="(/[^"]*)"', page):
        if link.startswith("/static/"):
            continue
        assert client.get(link).status_code != 403, link


def test_the_conversation_on_the_phone_with_a_note(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    thread = order_thread(order)
    colleague = make_user("agent")
    add_note(thread, colleague, "Klant vraagt of de monteur kan bellen bij aankomst.")
    commit()
    token = _sign_in(auth, tech)

    page = client.get(f"/m/visits/{order.id}/conversation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Klant vraagt of de monteur kan bellen bij aankomst." in html
    assert 'href="/m/#visit-' in html
    assert "/threads/" not in html and 'href="/inbox' not in html and "/tasks/new" not in html
    for link in re.findall(r'href="(/[^"]*)"', html):
        if not link.startswith("/static/"):
            assert client.get(link).status_code != 403, link

    added = client.post(
        f"/m/visits/{order.id}/note",
        data={
            "csrf_token": token,
            "content": "Hond binnen gehouden, kabel via de garage.",
            "from": "conversation",
        },
        headers=HTMX,
    )
    assert added.status_code == 200
    assert "Hond binnen gehouden, kabel via de garage." in added.get_data(as_text=True)
    note = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_content == "Hond binnen gehouden, kabel via de garage."
        )
    )
    assert note.message_type == MessageType.INTERNAL_NOTE and note.thread_id == thread.id
    assert note.sender_user_id == tech.id

    empty = client.post(
        f"/m/visits/{order.id}/note",
        data={"csrf_token": token, "content": " ", "from": "conversation"},
    )
    assert empty.status_code == 303
    # Without JavaScript the answer lands in the page's own slot, where htmx puts it.
    answered = client.get(empty.headers["Location"]).get_data(as_text=True)
    error = 'data-testid="conversation-error" data-bring-into-view>Write a note before saving.</p>'
    assert error in answered
    assert "Write a note before saving." not in client.get(empty.headers["Location"]).get_data(
        as_text=True
    )
    plain = client.post(
        f"/m/visits/{order.id}/note",
        data={"csrf_token": token, "content": "Zonder JavaScript.", "from": "conversation"},
    )
    assert plain.status_code == 303
    assert f'data-testid="conversation-notice">{order.order_number}: note added.</p>' in (
        client.get(plain.headers["Location"]).get_data(as_text=True)
    )


def test_technicians_see_only_the_conversations_of_their_own_visits(client, auth, make_user):
    tech = make_user("technician")
    other = make_user("technician")
    theirs = visit(other, number="CC-2026-00077")
    mine = visit(tech)
    token = _sign_in(auth, tech)
    assert client.get(f"/m/visits/{theirs.id}/conversation").status_code == 403
    assert client.get(f"/m/visits/{theirs.id}/card").status_code == 403
    note = client.post(
        f"/m/visits/{theirs.id}/note", data={"csrf_token": token, "content": "hallo"}
    )
    assert note.status_code == 403
    assert client.get(f"/m/visits/{mine.id}/conversation").status_code == 200
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/m/visits/{missing}/conversation").status_code == 404

    client.post("/logout", data={"csrf_token": token})
    agent = make_user("agent")
    auth.login(agent.email)
    assert client.get(f"/m/visits/{mine.id}/conversation").status_code == 403


def test_0029_words_the_reminders_by_day_and_adds_the_technician_replies(app):
    old_whatsapp = (
        "Hoi {{customer_name}}, een herinnering: op {{visit_date}} om {{visit_time}} komt "
        "{{technician_name}} de laadpaal installeren. Zorgt u dat de meterkast vrij "
        "toegankelijk is? Groet, ChargeCars"
    )
    edited_sms = "Eigen tekst: {{visit_date}} om {{visit_time}}."
    # Whatever 0029 follows once the migrations are chained, go back to it.
    config = current_app.extensions["migrate"].migrate.get_config()
    downgrade(revision=ScriptDirectory.from_config(config).get_revision("0029").down_revision)
    try:
        insert = sa.text(
            "INSERT INTO communication_template (id, created_at, updated_at, template_name, "
            "display_name, template_category, channel_type, message_template, variables, "
            "business_entity, language, is_active, usage_count) VALUES (:id, :at, :at, :name, "
            ":name, 'installation_scheduling', 'any', :body, '[]', 'all', 'nl', :true, 0)"
        ).bindparams(
            sa.bindparam("id", type_=sa.Uuid()),
            sa.bindparam("at", type_=sa.DateTime(timezone=True)),
            sa.bindparam("true", type_=sa.Boolean()),
        )
        for name, body in (
            ("visit_reminder_whatsapp", old_whatsapp),
            ("visit_reminder_sms", edited_sms),
            ("technician_at_the_door", "Al aangepast door een beheerder."),
        ):
            db.session.execute(
                insert,
                {"id": uuid.uuid4(), "at": utcnow(), "name": name, "body": body, "true": True},
            )
        db.session.commit()
    finally:
        upgrade()
    texts = dict(
        db.session.execute(
            sa.select(CommunicationTemplate.template_name, CommunicationTemplate.message_template)
        ).all()
    )
    assert "Wanneer: {{visit_moment}}." in texts["visit_reminder_whatsapp"]
    assert texts["visit_reminder_sms"] == edited_sms  # edited by an admin: left alone
    assert texts["technician_at_the_door"] == "Al aangepast door een beheerder."
    assert "{{eta}}" in texts["technician_eta"]
    assert "15 minuten later" in texts["technician_running_late"]
