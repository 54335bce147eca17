"""The language per user, dates and numbers for the locale, texts outside a request.

The suite's default language is English (tests/conftest.py); the tests of the
Dutch default build their app with ``DEFAULT_LANGUAGE="nl"``, as production runs.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timezone
from html import unescape

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_babel import force_locale, get_locale, gettext, lazy_gettext, refresh

from app.analytics.digest import send_daily_digests
from app.analytics.tables import COUNT, DAY, PERCENT, display
from app.conversations.notifications import services as notification_services
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.i18n import language_of
from app.platform.models import AuditLog, SandboxSend, User
from app.platform.system_texts import text
from app.platform.ui import local_date, local_time
from tests.analytics.test_daily_digest import MORNING, setup_people
from tests.conftest import opened
from tests.support.helpers import PASSWORD, AuthActions, csrf_token_from
from tests.support.jobs import drain_queues

MOMENT = datetime(2026, 11, 22, 13, 5, tzinfo=timezone.utc)  # 14:05 in Amsterdam


@pytest.fixture
def dutch_default_app(make_app):
    """The app as deployed: Dutch for whoever's language is unknown."""
    with opened(make_app(DEFAULT_LANGUAGE="nl")) as app:
        yield app


def _agent(language: str | None = None) -> User:
    """An agent on whichever app is current (``make_user`` would bring the English one)."""
    user = create_user(
        f"agent-{uuid.uuid4().hex[:8]}@switchboard.test",
        "Test agent",
        "agent",
        PASSWORD,
        language=language,
    )
    db.session.commit()
    return user


def _lang(response) -> str:
    return re.search(r'<html lang="(\w+)">', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "nl"),  # the browser says nothing: Dutch
        ("en-US,en;q=0.9", "en"),  # Chromium in English
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("de-DE,de;q=0.9", "nl"),  # nothing we speak: Dutch
        ("de-DE,en;q=0.5", "en"),  # the best we speak
    ],
)
def test_the_sign_in_page_follows_the_browser_then_dutch(
    dutch_default_app, accept_language, expected
):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = dutch_default_app.test_client().get("/login", headers=headers)
    assert page.status_code == 200
    assert _lang(page) == expected


def test_the_json_api_answers_a_system_that_names_no_language_in_english(dutch_default_app):
    """A partner's system sends no Accept-Language: the API's documented English, not Dutch."""
    dutch = {"Accept-Language": "nl"}
    for path, headers, expected in (
        ("/api/v1/orders", {}, "en"),
        ("/api/notifications", dutch, "nl"),  # the agent's browser asks for Dutch
        ("/inbox", {}, "nl"),  # a page: the default
    ):
        with dutch_default_app.test_request_context(path, headers=headers):
            refresh()  # the fixture's app context (g) would keep the first answer
            assert str(get_locale()) == expected, path


def test_a_users_own_language_wins_over_the_browser(dutch_default_app):
    english, automatic = _agent("en"), _agent()
    dutch_browser = {"Accept-Language": "nl-NL,nl;q=0.9"}
    for user, expected in ((english, "en"), (automatic, "nl")):
        client = dutch_default_app.test_client()
        AuthActions(client).login(user.email)
        assert _lang(client.get("/settings/preferences", headers=dutch_browser)) == expected
    english_browser = {"Accept-Language": "en-GB"}
    client = dutch_default_app.test_client()
    AuthActions(client).login(automatic.email)
    assert _lang(client.get("/settings/preferences", headers=english_browser)) == "en"


def test_choosing_a_language_is_saved_audited_and_used_at_once(client, auth, make_user):
    agent = make_user("agent")
    auth.login(agent.email)
    page = client.get("/settings/preferences")
    html = page.get_data(as_text=True)
    assert _lang(page) == "en" and "Automatic (browser language)" in html
    assert "Nederlands" in html and "English" in html

    saved = client.post(
        "/settings/preferences",
        data={"language": "nl", "csrf_token": csrf_token_from(html)},
        follow_redirects=True,
    )
    html = saved.get_data(as_text=True)
    assert _lang(saved) == "nl"
    assert "Uw voorkeuren zijn opgeslagen." in html and "Voorkeuren" in html
    db.session.expire_all()
    assert db.session.get(User, agent.id).language == "nl"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "language_changed"))
    assert entry.changed_by_user_id == agent.id and entry.record_id == agent.id
    assert entry.changes == {"language": {"from": None, "to": "nl"}}

    # Back to "automatic": NULL, the browser decides again.
    client.post(
        "/settings/preferences",
        data={"language": "", "csrf_token": csrf_token_from(html)},
    )
    db.session.expire_all()
    assert db.session.get(User, agent.id).language is None


def test_a_language_we_do_not_speak_is_refused_naming_the_field(client, auth, make_user):
    agent = make_user("agent")
    auth.login(agent.email)
    token = auth.csrf_token("/settings/preferences")
    refused = client.post("/settings/preferences", data={"language": "fr", "csrf_token": token})
    assert refused.status_code == 422
    assert "Choose one of the languages listed." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, agent.id).language is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_dates_and_numbers_are_written_for_the_locale(app):
    day = date(2025, 3, 4)
    with force_locale("nl"):
        assert local_time(MOMENT) == "22 nov 14:05"
        assert local_time(MOMENT, "%a %d %b %Y %H:%M") == "zo 22 nov 2026 14:05"
        assert local_date(day, "%A %d %B %Y") == "dinsdag 04 maart 2025"
        assert display(92.46, PERCENT) == "92,5 %"
        assert display(1234567, COUNT) == "1.234.567"
        assert display(day, DAY) == "di 04 mrt 2025"
    with force_locale("en"):
        assert local_time(MOMENT) == "22 Nov 14:05"
        assert local_date(day, "%a %d %b") == "Tue 04 Mar"
        assert display(92.46, PERCENT) == "92.5 %"
        assert display(1234567, COUNT) == "1,234,567"


def test_a_request_keeps_its_catalogue_yet_forced_texts_follow_their_reader(
    dutch_default_app,
):
    """The catalogue is found once per request (app.platform.i18n.RequestCatalogueDomain),
    but a text written for another reader inside it (force_locale) is in theirs,
    in Python and in templates alike, and the request's own language comes back after."""
    template = "{{ _('Unassigned') }}"
    with dutch_default_app.test_request_context("/inbox"):
        assert gettext("Unassigned") == "Niet toegewezen"
        assert render_template_string(template) == "Niet toegewezen"
        with force_locale("en"):
            assert gettext("Unassigned") == "Unassigned"
            assert render_template_string(template) == "Unassigned"
            assert str(lazy_gettext("Unassigned")) == "Unassigned"
        assert render_template_string(template) == "Niet toegewezen"
        assert gettext("Unassigned") == "Niet toegewezen"


def test_a_dutch_users_pages_show_dutch_dates(client, auth, make_user):
    agent = make_user("agent", language="nl")
    notification_services.create_notification(agent.id, "test", text("notification.test"))
    db.session.commit()
    auth.login(agent.email)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Testmelding" in html
    # The local_time filter: "22 nov 14:05", the month as Dutch abbreviates it.
    assert re.search(r"\d\d (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec) \d\d:\d\d", html)


def test_the_daily_digest_is_written_in_its_recipients_language(app):
    anna, lead, *_ = setup_people()
    anna.language = "nl"
    db.session.commit()
    assert send_daily_digests(MORNING) == 2
    drain_queues(app)
    sends = {s.recipient: s.request_body for s in db.session.scalars(sa.select(SandboxSend))}

    def date_text(email):
        return sends[email]["personalizations"][0]["dynamic_template_data"]["date_text"]

    assert date_text(anna.email) == "dinsdag 04 maart 2025"
    assert date_text(lead.email) == "Tuesday 04 March 2025"  # no choice: the default


def test_texts_outside_a_request_follow_the_recipient_then_the_default(
    dutch_default_app, monkeypatch
):
    pushed = []
    monkeypatch.setattr(
        notification_services, "publish_to_users", lambda event, data, users: pushed.append(data)
    )
    english, automatic = _agent("en"), _agent()
    assert (language_of(english), language_of(automatic)) == ("en", "nl")
    for user in (english, automatic):
        notification = notification_services.create_notification(
            user.id, "test", text("notification.test")
        )
        db.session.commit()
        notification_services.announce(notification)
    assert [push["title"] for push in pushed] == ["Test notification", "Testmelding"]


def test_scripts_get_their_texts_in_the_readers_language(client, auth, make_user):
    auth.login(make_user("agent", language="nl").email)
    html = client.get("/settings/preferences").get_data(as_text=True)
    block = re.search(r"<body [^>]*data-ui-texts='([^']*)'", html).group(1)
    texts = json.loads(unescape(block))
    assert texts["draft_saved"] == "Concept opgeslagen"
    assert texts["window_closes_hours"] == "Venster sluit over %(hours)s u %(minutes)s min"
