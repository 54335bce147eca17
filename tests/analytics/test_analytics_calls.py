"""Logged calls on /analytics, against counts worked out by hand.

The week is Monday 3 to Sunday 9 March 2025 (CET, UTC+1). Calls:

==  =========================  =====  ======  =========  ================  =====
#   when (UTC)                 local  agent   team       outcome           secs
==  =========================  =====  ======  =========  ================  =====
1   Mon 3 Mar 09:00            Mon    Anna    A (ks)     reached, out      252
2   Mon 3 Mar 10:00            Mon    Anna    A          no answer, out      0
3   Tue 4 Mar 23:30            Wed    Bram    B (tech)   reached, in       600
4   Wed 5 Mar 12:00            Wed    Anna    A          voicemail, out     30
5   Sun 9 Mar 23:30            Mon10  Bram    B          reached, in       100   (outside)
6   Sun 2 Mar 22:59            Sun 2  Anna    A          reached, out      100   (outside)
==  =========================  =====  ======  =========  ================  =====

Whole week: 4 calls, 1 inbound (#3) and 3 outbound; talk time
252 + 0 + 600 + 30 = 882 s; average over calls above 0 s: 882 / 3 = 294 s.
Per day: Mon 2 calls 252 s, Wed 2 calls 630 s. Per agent: Anna 3 calls
(1 reached, 282 s), Bram 1 (1 reached, 600 s). Per outcome: reached 2 (852 s),
no answer 1 (0 s), voicemail 1 (30 s). Team A alone: calls 1, 2, 4.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.analytics.calls import call_figures
from app.analytics.filters import AnalyticsFilter
from app.conversations.core import log_call
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.models import Team
from app.platform.models.enums import CallDirection, CallOutcome, ChannelType, Role
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import PASSWORD, enroll_two_factor

OUT, IN = CallDirection.OUTBOUND, CallDirection.INBOUND
REACHED, NO_ANSWER, VOICEMAIL = CallOutcome.REACHED, CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def week(team_id=None) -> AnalyticsFilter:
    return AnalyticsFilter(date(2025, 3, 3), date(2025, 3, 9), team_id)


def hand_counted_calls(app):
    """The week of calls above, logged through the conversation's owner (a fixture body)."""
    team_a, team_b = Team(name="Klantenservice", slug="ks"), Team(name="Techniek", slug="tech")
    db.session.add_all([team_a, team_b])
    db.session.flush()
    anna = create_user("anna@switchboard.test", "Anna", Role.AGENT, PASSWORD, team_id=team_a.id)
    bram = create_user("bram@switchboard.test", "Bram", Role.AGENT, PASSWORD, team_id=team_b.id)
    manager = create_user("manager@switchboard.test", "Mies", Role.MANAGER, PASSWORD)
    enroll_two_factor(manager)
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    thread_a = factories.thread(channel, factories.contact(), assigned_team_id=team_a.id)
    thread_b = factories.thread(channel, factories.contact(), assigned_team_id=team_b.id)
    for thread, agent, when, direction, outcome, seconds in [
        (thread_a, anna, "2025-03-03 09:00", OUT, REACHED, 252),
        (thread_a, anna, "2025-03-03 10:00", OUT, NO_ANSWER, 0),
        (thread_b, bram, "2025-03-04 23:30", IN, REACHED, 600),
        (thread_a, anna, "2025-03-05 12:00", OUT, VOICEMAIL, 30),
        (thread_b, bram, "2025-03-09 23:30", IN, REACHED, 100),
        (thread_a, anna, "2025-03-02 22:59", OUT, REACHED, 100),
    ]:
        log_call(
            thread,
            agent_id=agent.id,
            direction=direction,
            outcome=outcome,
            duration_seconds=seconds,
            notes="",
            at=at(when),
        )
    commit()
    return {"team_a": team_a, "manager": manager}


calls = pytest.fixture(hand_counted_calls, name="calls")


def _rows(table, key) -> dict:
    return {row[key]: row for row in table.rows}


def test_calls_and_talk_time_of_the_week(calls):
    figures = call_figures(week())
    assert (figures.calls, figures.inbound, figures.outbound) == (4, 1, 3)
    assert figures.talk_seconds == 882
    assert figures.average_seconds == 294


def test_calls_per_local_day(calls):
    days = _rows(call_figures(week()).by_day, "day")
    assert set(days) == {date(2025, 3, 3), date(2025, 3, 5)}
    assert (days[date(2025, 3, 3)]["calls"], days[date(2025, 3, 3)]["talk"]) == (2, 252)
    # 23:30 UTC on Tuesday is 00:30 on Wednesday in Amsterdam.
    assert (days[date(2025, 3, 5)]["calls"], days[date(2025, 3, 5)]["talk"]) == (2, 630)


def test_calls_per_agent_and_outcome(calls):
    figures = call_figures(week())
    agents = _rows(figures.by_agent, "agent")
    assert {name: (r["calls"], r["reached"], r["talk"]) for name, r in agents.items()} == {
        "Anna": (3, 1, 282),
        "Bram": (1, 1, 600),
    }
    assert [row["agent"] for row in figures.by_agent.rows] == ["Anna", "Bram"]
    outcomes = {row["outcome"]: (row["calls"], row["talk"]) for row in figures.by_outcome.rows}
    assert outcomes == {"Reached": (2, 852), "Not answered": (1, 0), "Voicemail": (1, 30)}


def test_the_team_filter_keeps_that_teams_calls(calls):
    figures = call_figures(week(calls["team_a"].id))
    assert (figures.calls, figures.talk_seconds) == (3, 282)
    assert [row["agent"] for row in figures.by_agent.rows] == ["Anna"]


def test_the_page_shows_the_calls_card_in_dutch(client, auth, calls):
    assert auth.login("manager@switchboard.test").status_code == 302
    page = client.get(
        "/analytics",
        query_string={"from": "2025-03-03", "to": "2025-03-09"},
        headers={"Accept-Language": "nl"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="calls-card"' in html and "Telefoongesprekken" in html
    assert 'data-testid="calls-total">4<' in html
    assert 'data-figure="calls_by_agent"' in html and "Anna" in html
    assert "Geen gehoor" in html  # the outcome in Dutch


def test_a_range_without_calls_says_so(client, auth, calls):
    assert auth.login("manager@switchboard.test").status_code == 302
    html = client.get(
        "/analytics", query_string={"from": "2025-04-01", "to": "2025-04-02"}
    ).get_data(as_text=True)
    assert "No calls logged in this period." in html or "geen gesprekken" in html


def test_each_calls_table_downloads_as_csv(client, auth, calls):
    assert auth.login("manager@switchboard.test").status_code == 302
    week_args = {"from": "2025-03-03", "to": "2025-03-09"}
    page = client.get("/analytics", query_string=week_args).get_data(as_text=True)
    for key in ("calls_by_agent", "calls_by_outcome", "calls_by_day"):
        assert f'data-testid="csv-{key}"' in page
    answer = client.get("/analytics.csv", query_string={**week_args, "figure": "calls_by_agent"})
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).lstrip("\ufeff").splitlines()
    # Agent; calls; reached; talk time in minutes (Dutch decimal comma), as on the page.
    assert lines == ["Agent;Calls;Reached;Talk time (min)", "Anna;3;1;4,7", "Bram;1;1;10,0"]
    unknown = client.get("/analytics.csv", query_string={**week_args, "figure": "calls"})
    assert unknown.status_code == 400 and "calls_by_day" in unknown.get_data(as_text=True)
