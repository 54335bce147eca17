"""Inbox search and scoping, as an agent does it: find a customer by 06-…, and be
told whose conversation it is when a link leads into another team's."""

from __future__ import annotations

from playwright.sync_api import expect

from app.conversations.inbox.search import rebuild_search_documents
from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

DESKTOP = {"width": 1440, "height": 900}


def test_an_agent_finds_a_customer_by_a_number_typed_06_dash(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    sanne = factories.contact(display_name="Sanne Jansen", phone="+31688493461")
    eva = factories.contact(display_name="Eva de Boer", phone="+31612345678")
    factories.thread(channel, sanne, thread_subject="Laadpaal laadt niet meer")
    factories.thread(channel, eva, thread_subject="Vraag over de factuur")
    db.session.flush()
    rebuild_search_documents()
    db.session.commit()

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/inbox")
    rows = page.locator("li.thread-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("inbox-search").fill("06-88493461")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sanne Jansen")
    expect(rows.first).to_contain_text("Laadpaal laadt niet meer")
    assert "q=06-88493461" in page.url  # the search is in the address, to share or reload

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Laadpaal laadt niet meer")).to_be_visible()


def test_another_teams_thread_says_whose_it_is_and_leads_back(live_server, page, make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    make_user("agent", email="anouk@switchboard.test", team_id=mine.id)
    owner = make_user("agent", team_id=theirs.id)
    owner.name = "Daan Bakker"
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    thread = factories.thread(
        channel, factories.contact(), assigned_team_id=theirs.id, assigned_to_user_id=owner.id
    )
    db.session.commit()

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    response = page.goto(f"{live_server.url}/threads/{thread.id}")
    assert response.status == 403
    heading = page.get_by_role("heading", name="This conversation is not yours to open")
    expect(heading).to_be_visible()
    owner_line = page.get_by_text("belongs to the team Techniek and is assigned to Daan Bakker")
    expect(owner_line).to_be_visible()
    page.get_by_role("link", name="Back to the inbox").click()
    expect(page).to_have_url(f"{live_server.url}/inbox")


def test_most_urgent_first_puts_customers_waiting_above_an_overdue_internal_note(
    live_server, page, make_user
):
    """Point 8: a colleague's overdue note never outranks a customer waiting on us."""
    from datetime import timedelta

    from app.platform.database import utcnow
    from app.platform.models.enums import Priority, ThreadStatus

    make_user("manager", email="marieke@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    notes = factories.channel(ChannelType.INTERNAL_COMMENT, channel_name="Notes")
    now = utcnow()
    factories.thread(
        notes,
        None,
        thread_subject="Notitie: voorraad tellen",
        priority=Priority.LOW,
        response_due_at=now - timedelta(days=4),
    )
    factories.thread(
        whatsapp,
        factories.contact(display_name="Kees Kaya"),
        thread_subject="Monteur niet gekomen",
        status=ThreadStatus.ESCALATED,
        priority=Priority.URGENT,
        response_due_at=now + timedelta(minutes=30),
    )
    factories.thread(
        whatsapp,
        factories.contact(display_name="Linda Jansen"),
        thread_subject="Laadpaal defect",
        priority=Priority.CRITICAL,
        response_due_at=now + timedelta(minutes=30),
    )
    db.session.commit()

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "marieke@switchboard.test")
    page.goto(f"{live_server.url}/inbox?sort=urgency")
    rows = page.locator("li.thread-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Laadpaal defect")  # critical, same deadline
    expect(rows.nth(1)).to_contain_text("Monteur niet gekomen")
    expect(rows.nth(2)).to_contain_text("Notitie: voorraad tellen")
