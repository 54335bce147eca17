"""The timeline in a browser: one timeline in English or Dutch, automatic senders named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask_login import current_user
from playwright.sync_api import expect

from app.conversations.assignment.services import Pick, describe_pick
from app.conversations.core import assign
from app.platform.extensions import db
from app.platform.system_texts import text
from app.platform.transactions import commit
from tests.e2e.test_sign_in import sign_in
from tests.platform.test_system_texts import DUTCH_LINES, ENGLISH_LINES, _timeline_with_everything
from tests.support import factories

SHOTS = os.environ.get("SHOTS_DIR")
SIZES = {"1440": {"width": 1440, "height": 900}, "375": {"width": 375, "height": 812}}


@pytest.mark.parametrize(
    ("language", "lines", "senders", "why"),
    [
        ("en", ENGLISH_LINES, ["Automatic reply", "Order status update"], "Technical issue"),
        (
            "nl",
            DUTCH_LINES,
            ["Automatisch antwoord", "Wijziging orderstatus"],
            "Technisch probleem",
        ),
    ],
)
def test_the_timeline_speaks_the_readers_language(
    live_server, app, browser, make_user, language, lines, senders, why
):
    lead, thread = _timeline_with_everything(make_user)
    team = factories.team("Techniek")
    nobody = Pick(None, why_nobody=text("routing.nobody_available"))
    assign(
        thread,
        team=team,
        user=lead,
        reason=[
            text("routing.rule", thread_type=text("thread_type.technical_issue"), team="Techniek"),
            *describe_pick(nobody, team),
        ],
    )
    commit()
    email, thread_id = lead.email, thread.id
    db.session.remove()
    # The reader's language, as users_language gives it: the signed-in user's. The
    # login page before it is anonymous, so in English (its labels are translated too).
    app.extensions["babel"].locale_selector = lambda: (
        language if current_user.is_authenticated else None
    )
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url, email)
        page.goto(f"{live_server.url}/threads/{thread_id}")
        timeline = page.locator("#timeline")
        for line in lines:
            expect(timeline.locator(".tl-system", has_text=line.split(";")[0])).to_have_count(1)
        expect(timeline.locator(".sender-auto")).to_have_text(senders)
        expect(page.get_by_test_id("assignment-reason")).to_contain_text(why)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/timeline-{language}-{size}.png", full_page=True)
        context.close()
