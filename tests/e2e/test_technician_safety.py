"""The technician's day on a 375x812 touch phone: the day's cards, "Completed?" in a
dialog, Undo inside the window (nothing reaches the partner or the customer), the
move going through after it, quick replies with an arrival time, and the phone
conversation with a note."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    Order,
    OutboundDelivery,
    PendingVisitMove,
    SandboxSend,
    User,
)
from app.platform.models.enums import DeliveryKind, MessageType, OrderStatus, TemplateCategory
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner

PHONE = {"width": 375, "height": 812}
UNDO_SECONDS = 3


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    yield page
    context.close()


def _count(query) -> int:
    db.session.expire_all()
    value = db.session.scalar(query)
    db.session.rollback()
    return value


def _left() -> dict:
    """What reached, or is on its way to, the partner or the customer."""
    return {
        "callbacks": _count(
            sa.select(sa.func.count()).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
        ),
        "deliveries": _count(sa.select(sa.func.count()).select_from(OutboundDelivery)),
        # Sends of the conversation's messages: what the customer would get. (A
        # partner alert mail from another feature is a send too, but no message.)
        "sandbox": _count(
            sa.select(sa.func.count())
            .select_from(SandboxSend)
            .where(SandboxSend.message_id.is_not(None))
        ),
        "outgoing": _count(
            sa.select(sa.func.count()).where(
                CommunicationMessage.message_type == MessageType.OUTGOING
            )
        ),
    }


def _setup(make_user):
    technician = make_user("technician", email="monteur@switchboard.test")
    partner = make_partner(webhook_url="http://127.0.0.1:9/hooks")  # nothing listens
    for name, body in (
        (
            "technician_eta",
            "Hoi {{customer_first_name}}, ik ben onderweg. Verwachte aankomst: {{eta}}.",
        ),
        ("technician_at_the_door", "Hoi {{customer_first_name}}, ik sta voor de deur."),
    ):
        factories.template(
            body,
            template_name=name,
            display_name={"technician_eta": "Ik ben onderweg"}.get(name, "Ik sta voor de deur"),
            template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        )
    later = visit(
        technician,
        number="CC-2026-00050",
        with_whatsapp=False,
        preferences={"time_window": "middag (12:00-17:00)", "access_notes": "Poortcode 4711"},
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-50",
    )
    earlier = visit(
        technician,
        number="CC-2026-00060",
        with_whatsapp=False,
        preferences={"time_window": "ochtend (08:00-12:00)"},
    )
    return later, earlier


def test_technician_day_with_confirmation_undo_and_quick_replies(
    app, live_server, running_worker, phone, make_user
):
    app.config["VISIT_UNDO_SECONDS"] = UNDO_SECONDS
    later, earlier = _setup(make_user)
    page = phone
    sign_in(page, live_server.url, "monteur@switchboard.test")
    expect(page).to_have_url(re.compile(r"/m/$"))
    page.wait_for_load_state("load")

    # Point 2: by planned time, with the window, address link and site notes on the card.
    cards = page.get_by_test_id("visit")
    expect(cards.nth(0)).to_have_attribute("data-order", "CC-2026-00060")
    expect(cards.nth(1)).to_have_attribute("data-order", "CC-2026-00050")
    card = cards.filter(has_text="CC-2026-00050")
    expect(card.get_by_test_id("visit-window")).to_have_text("middag 12:00–17:00")
    expect(card.get_by_test_id("visit-address")).to_have_attribute(
        "href", re.compile(r"^https://www\.google\.com/maps/search/")
    )
    expect(card).to_contain_text("Poortcode 4711")
    expect(card.get_by_test_id("visit-notes")).to_be_visible()
    expect(card.get_by_test_id("visit-notes")).to_contain_text("Meterkast in de garage")

    # Point 1: "Completed" asks in a dialog; Cancel changes nothing.
    card.get_by_role("button", name="Completed").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Mark CC-2026-00050 completed?")
    dialog.get_by_role("link", name="Cancel").tap()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert _count(sa.select(sa.func.count()).select_from(PendingVisitMove)) == 0

    # Confirmed, then undone inside the window: nothing leaves.
    card.get_by_role("button", name="Completed").tap()
    page.get_by_role("dialog").get_by_role("button", name="Yes, completed").tap()
    pending = card.get_by_test_id("visit-pending")
    expect(pending).to_contain_text(re.compile(r"Completed: saved in \d s"))
    pending.get_by_role("button", name="Undo").tap()
    expect(card.get_by_test_id("visit-notice")).to_have_text("Undone: the visit was not changed.")
    page.wait_for_timeout((UNDO_SECONDS + 2) * 1000)
    assert _left() == {"callbacks": 0, "deliveries": 0, "sandbox": 0, "outgoing": 0}
    assert _count(sa.select(Order.status).where(Order.id == later.id)) == OrderStatus.SCHEDULED

    # Point 3: "on the way" with the arrival picked on the phone, undone: never sent.
    eta = card.locator("fieldset.m-eta-choices")
    eta.get_by_role("button", name="+30 min").tap()
    held = card.get_by_test_id("reply-pending")
    expect(held).to_contain_text(re.compile(r"Sending in \d s"))
    expect(held).to_contain_text("Verwachte aankomst: ")
    held.get_by_role("button", name="Undo").tap()
    expect(card.get_by_test_id("visit-notice")).to_have_text("Undone: the message was not sent.")
    page.wait_for_timeout((UNDO_SECONDS + 2) * 1000)
    assert _left()["sandbox"] == 0 and _left()["outgoing"] == 0

    # Not undone: after the window the move goes through the status engine.
    card.get_by_role("button", name="Started").tap()
    expect(card.get_by_test_id("visit-pending")).to_contain_text(
        re.compile(r"Started: saved in \d s")
    )
    assert _left()["callbacks"] == 0
    expect(card.get_by_test_id("visit-status")).to_have_text("in progress", timeout=25_000)
    expect(card.get_by_test_id("visit-notice")).to_have_text("CC-2026-00050: visit started.")
    assert _left()["callbacks"] == 1
    # With the visit under way, "on my way" is no reply any more.
    expect(card.locator("fieldset.m-eta-choices")).to_have_count(0)

    # "Ik sta voor de deur", left to go: sent once the window closes.
    card.get_by_role("button", name=re.compile("Ik sta voor de deur")).tap()
    expect(card.get_by_test_id("reply-pending")).to_be_visible()
    expect(card.get_by_test_id("reply-pending")).to_have_count(0, timeout=25_000)
    for _ in range(50):
        if _left()["sandbox"] == 1:
            break
        page.wait_for_timeout(200)
    assert _left()["sandbox"] == 1

    # Point 4: the phone conversation, with a note; back to the day.
    card.get_by_role("link", name="Open the conversation").tap()
    expect(page).to_have_url(re.compile(rf"/m/visits/{later.id}/conversation$"))
    timeline = page.get_by_test_id("conversation-timeline")
    expect(timeline).to_contain_text("Hoi Jan, ik sta voor de deur.")
    expect(timeline).to_contain_text("started the visit on site")
    page.get_by_label("Internal note").fill("Hond binnen, kabel via de garage.")
    page.get_by_role("button", name="Add note").tap()
    expect(page.get_by_test_id("conversation-notice")).to_have_text("CC-2026-00050: note added.")
    expect(timeline).to_contain_text("Hond binnen, kabel via de garage.")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"conversation is {width}px wide"
    page.get_by_test_id("back-to-day").tap()
    expect(page).to_have_url(re.compile(r"/m/#visit-"))
    assert earlier.id  # the other visit was never touched
    assert _count(sa.select(Order.status).where(Order.id == earlier.id)) == OrderStatus.SCHEDULED


def test_a_dutch_technician_with_a_12_hour_phone_sees_the_whole_arrival_time(
    live_server, browser, make_user
):
    """Dutch labels ("of om", "Versturen") beside a 12-hour clock's "10:45 AM" on a
    375 px phone: the button takes a line of its own rather than clip the time; a
    refusal is shown where the technician looks; the choices fit at 320 px."""
    _setup(make_user)
    db.session.execute(
        sa.update(User).where(User.email == "monteur@switchboard.test").values(language="nl")
    )
    db.session.commit()
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        page.wait_for_load_state("load")
        time = page.locator("input[name=eta_time]").first
        preview = time.locator("xpath=ancestor::form").locator("[data-eta-preview]")
        expect(preview).to_contain_text("Verwachte aankomst: --:--.")
        time.fill("10:45")
        # The preview says what will be sent.
        expect(preview).to_contain_text("Verwachte aankomst: 10:45.")
        # Chromium draws "10:45 AM" and its clock icon in about 120 px.
        assert time.bounding_box()["width"] >= 130
        send = time.locator("xpath=..").get_by_role("button", name="Versturen")
        assert send.bounding_box()["height"] >= 44
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        # Sent without a time: refused, and the refusal (on top of the card, a
        # screen above the button) is brought to where the technician looks.
        time.fill("")
        send.tap()
        error = page.get_by_test_id("visit-error")
        expect(error).to_contain_text("Kies wanneer u verwacht aan te komen")
        expect(error).to_be_in_viewport()

        # On a 320 px phone the "+60 min" choices wrap into rows rather than overlap.
        page.set_viewport_size({"width": 320, "height": 700})
        choices = page.locator(".m-eta-choice")
        expect(choices.first).to_be_visible()
        overflowing = choices.evaluate_all(
            "buttons => buttons.filter(b => b.scrollWidth > b.clientWidth).map(b => b.textContent)"
        )
        assert overflowing == []
    finally:
        context.close()
