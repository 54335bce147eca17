"""An inline edit saves only the field that changed."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import ChannelType, MessageType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories


def test_a_priority_change_on_a_technicians_thread_keeps_the_assignee(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    technician = make_user("technician", email="tom@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(
        channel,
        jan,
        thread_subject="Laadpaal werkt niet",
        assigned_to_user_id=technician.id,
        tags=["storing", "factuur"],
    )
    factories.message(thread, "Hij knippert rood", sender_contact_id=jan.id)
    db.session.commit()

    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.wait_for_load_state("load")
    page.get_by_test_id("thread-details-toggle").click()  # folded by default
    assignee = page.get_by_test_id("edit-assignee")
    expect(assignee.locator("option:checked")).to_have_text(f"{technician.name} (technician)")
    page.get_by_test_id("edit-priority").select_option("high")
    expect(page.get_by_text("changed the priority from normal to high")).to_be_visible()
    expect(page.get_by_test_id("edit-assignee").locator("option:checked")).to_have_text(
        f"{technician.name} (technician)"
    )

    db.session.expire_all()
    saved = db.session.get(CommunicationThread, thread.id)
    assert saved.assigned_to_user_id == technician.id
    lines = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION
        )
    ).all()
    assert len(lines) == 1 and "priority" in lines[0]


def test_enter_in_the_tags_field_saves_once_and_stays_on_the_page(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    thread = factories.thread(channel, factories.contact(), tags=["storing"])
    db.session.commit()

    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.wait_for_load_state("load")
    page.get_by_test_id("thread-details-toggle").click()  # folded by default
    tags = page.locator("input[name=tags]")
    tags.fill("storing, factuur")
    tags.press("Enter")
    expect(page.get_by_text("set the tags to")).to_be_visible()
    page.wait_for_timeout(500)  # a second, native submit would have landed by now
    assert page.url.endswith(f"/threads/{thread.id}")
    expect(page.get_by_test_id("header-error")).to_have_count(0)
    db.session.expire_all()
    assert sorted(db.session.get(CommunicationThread, thread.id).tags) == ["factuur", "storing"]
