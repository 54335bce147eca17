"""/analytics: every figure against values worked out by hand on a fixed fixture.

The fixture is one week, Monday 3 to Sunday 9 March 2025 (CET, UTC+1), so the
range runs from 2025-03-02 23:00Z to 2025-03-09 23:00Z. Each thread, message
and task below carries its expected effect in a comment.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from app.analytics.definitions import DEFINITIONS
from app.analytics.figures import FIGURES, compute
from app.analytics.filters import AnalyticsFilter, parse_filter
from app.conversations.business_time import clock
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    InternalTask,
    SlaAlert,
    Team,
)
from app.platform.models.enums import (
    ChannelType,
    MessageType,
    Role,
    TaskStatus,
    TemplateCategory,
    ThreadStatus,
    ThreadType,
)
from tests.support.helpers import PASSWORD, enroll_two_factor

WEEK = {"from": "2025-03-03", "to": "2025-03-09"}


def at(text: str) -> datetime:
    """A UTC moment from ``"2025-03-03 08:00"``."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def week(team_id=None) -> AnalyticsFilter:
    return AnalyticsFilter(date(2025, 3, 3), date(2025, 3, 9), team_id)


class Fixture:
    pass


@pytest.fixture
def data(app):
    d = Fixture()
    d.team_a = Team(name="Klantenservice", slug="ks")
    d.team_b = Team(name="Techniek", slug="tech")
    d.mail = CommunicationChannel(channel_type=ChannelType.EMAIL_OUTLOOK, channel_name="Mail")
    d.wa = CommunicationChannel(channel_type=ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    d.notes = CommunicationChannel(
        channel_type=ChannelType.INTERNAL_COMMENT, channel_name="Notities"
    )
    d.tasks_channel = CommunicationChannel(
        channel_type=ChannelType.INTERNAL_TASK, channel_name="Taken"
    )
    d.template = CommunicationTemplate(
        template_name="Bevestiging",
        template_category=TemplateCategory.CUSTOMER_SERVICE,
        message_template="Dank voor uw bericht",
    )
    db.session.add_all([d.team_a, d.team_b, d.mail, d.wa, d.notes, d.tasks_channel, d.template])
    db.session.flush()

    def user(email, name, role, team):
        made = create_user(email, name, role, PASSWORD, team_id=team.id if team else None)
        if role == Role.MANAGER:
            enroll_two_factor(made)  # the analytics page asks managers for it
        return made

    d.anna = user("anna@switchboard.test", "Anna", Role.AGENT, d.team_a)
    d.bram = user("bram@switchboard.test", "Bram", Role.AGENT, d.team_b)
    d.cor = user("cor@switchboard.test", "Cor", Role.AGENT, d.team_a)  # nothing to do
    d.manager = user("manager@switchboard.test", "Mies", Role.MANAGER, None)

    def thread(channel, team, who, created, **fields):
        record = CommunicationThread(
            thread_subject=f"Vraag {created}",
            channel_id=channel.id,
            assigned_team_id=team.id if team else None,
            assigned_to_user_id=who.id if who else None,
            created_at=at(created),
            last_message_at=at(created),
            **fields,
        )
        db.session.add(record)
        db.session.flush()
        return record

    def conversation(channel, team, who, asked, answered=None, resolved=None, **fields):
        """A thread whose SLA clock ran as live traffic runs it
        (app.conversations.business_time.clock).

        Targets (default policies): mail 240, WhatsApp 60, escalated 30 business
        minutes; business hours Mon–Fri 08:00–17:00 Amsterdam = 07:00–16:00Z in March.
        """
        record = thread(channel, team, who, asked, **fields)
        clock.customer_wrote(record, at(asked))
        if answered:
            clock.record_first_response(record, at(answered))
        if resolved:
            clock.resolve(record, at(resolved))
        return record

    # t1: mail, A, Mon 09:00 local, answered 09:30: 1,800 business s, met. Resolved Tue
    # 09:00 local: Mon 09–17 (28,800) + Tue 08–09 (3,600) = 32,400 business s (86,400 wall).
    t1 = conversation(
        d.mail,
        d.team_a,
        d.anna,
        "2025-03-03 08:00",
        answered="2025-03-03 08:30",
        resolved="2025-03-04 08:00",
        status=ThreadStatus.RESOLVED,
    )
    # t2: mail, B, Tue 11:00 local, due 15:00 local, answered 16:00 local: 18,000 business
    # s. The ladder escalated it at the deadline (step 3) and the answer cleared the
    # deadline and the status: still missed and escalated.
    t2 = conversation(
        d.mail,
        d.team_b,
        d.bram,
        "2025-03-04 10:00",
        answered="2025-03-04 15:00",
        status=ThreadStatus.IN_PROGRESS,
    )
    # t3: WhatsApp, A, 600 business seconds, met; a ladder step 2 (not an escalation).
    t3 = conversation(d.wa, d.team_a, d.anna, "2025-03-05 12:00", answered="2025-03-05 12:10")
    # t4: WhatsApp, B, unassigned; first message 00:30 local Thursday (out of hours, so
    # due 09:00 local), never answered: overdue, missed and escalated (no alert yet).
    t4 = conversation(d.wa, d.team_b, None, "2025-03-05 23:30")
    # t5: WhatsApp, A, 23:59 local on Sunday: due Monday 09:00 local (08:00Z). At NOW
    # (07:30Z) still waiting in time; on the page (now) it is overdue.
    t5 = conversation(d.wa, d.team_a, d.anna, "2025-03-09 22:59")
    # t6: mail, A, created before the range (Fri 16:00 local), resolved in it on Monday
    # 09:00 local: Fri 16–17 + Mon 08–09 = 7,200 business s (234,000 wall).
    conversation(
        d.mail,
        d.team_a,
        None,
        "2025-02-28 15:00",
        answered="2025-02-28 15:05",
        resolved="2025-03-03 08:00",
        status=ThreadStatus.CLOSED,
    )
    # t7: mail, B, created 00:30 on Monday 10 March local: just after the range; answered
    # 09:00 local: 3,600 business s.
    t7 = conversation(d.mail, d.team_b, d.bram, "2025-03-09 23:30", answered="2025-03-10 08:00")
    # t8: WhatsApp, A, Saturday 10:00 local, closed an hour later unanswered (spam): not
    # rated for SLA; resolution 0 business s (3,600 wall).
    t8 = conversation(
        d.wa,
        d.team_a,
        d.anna,
        "2025-03-08 09:00",
        resolved="2025-03-08 10:00",
        status=ThreadStatus.CLOSED,
    )
    # t9: mail, A, Thu 09:00 local, answered 09:20 (1,200 business s, in time), then a
    # person escalated it: missed and escalated although its first answer was in time.
    t9 = conversation(d.mail, d.team_a, d.anna, "2025-03-06 08:00", answered="2025-03-06 08:20")
    t9.status = ThreadStatus.ESCALATED
    clock.status_changed(t9, ThreadStatus.IN_PROGRESS, at("2025-03-06 08:30"))
    # t10: mail, B, Friday 19:00 local (out of hours), answered Monday 08:20 local:
    # 1,200 business s (220,800 wall), within its deadline (Monday 12:00 local): met.
    t10 = conversation(
        d.mail,
        d.team_b,
        d.bram,
        "2025-03-07 18:00",
        answered="2025-03-10 07:20",
        status=ThreadStatus.IN_PROGRESS,
    )
    # Internal items, in no service-level figure: a note answered in 900 s, resolved,
    # escalated by the ladder; a task overdue and escalated.
    n1 = conversation(
        d.notes,
        d.team_a,
        d.anna,
        "2025-03-04 09:00",
        answered="2025-03-04 09:15",
        resolved="2025-03-04 10:00",
        status=ThreadStatus.RESOLVED,
    )
    conversation(
        d.tasks_channel,
        d.team_b,
        None,
        "2025-03-05 08:00",
        status=ThreadStatus.ESCALATED,
        thread_type=ThreadType.INTERNAL_TASK,
    )
    db.session.add_all(
        [
            SlaAlert(thread_id=t2.id, sla_cycle=1, step=3, due_at=at("2025-03-04 14:00")),
            SlaAlert(thread_id=t3.id, sla_cycle=1, step=2),
            SlaAlert(thread_id=n1.id, sla_cycle=1, step=3),
        ]
    )

    def message(thread_record, kind, when, sender=None, template=False):
        db.session.add(
            CommunicationMessage(
                thread_id=thread_record.id,
                channel_id=thread_record.channel_id,
                message_type=kind,
                sender_user_id=sender.id if sender else None,
                created_at=at(when),
                template_id=d.template.id if template else None,
                message_content="…",
            )
        )

    message(t1, MessageType.INCOMING, "2025-03-03 08:00")
    message(t1, MessageType.OUTGOING, "2025-03-03 08:30", d.anna, template=True)
    message(t2, MessageType.INCOMING, "2025-03-04 10:00")
    message(t2, MessageType.OUTGOING, "2025-03-04 15:00", d.bram)
    message(t2, MessageType.INTERNAL_NOTE, "2025-03-04 15:05", d.bram)
    message(t2, MessageType.SYSTEM_NOTIFICATION, "2025-03-04 15:06")  # not counted
    message(t3, MessageType.INCOMING, "2025-03-05 12:00")
    message(t3, MessageType.AUTO_RESPONSE, "2025-03-05 12:00:30", template=True)
    message(t3, MessageType.OUTGOING, "2025-03-05 12:10", d.anna, template=True)
    message(t4, MessageType.INCOMING, "2025-03-05 23:30")  # 00:30 local: Thursday 6 March
    message(t4, MessageType.INCOMING, "2025-03-06 12:00")
    message(t5, MessageType.INCOMING, "2025-03-09 22:59")  # 23:59 local: still Sunday
    message(t7, MessageType.INCOMING, "2025-03-09 23:30")  # after the range
    message(t7, MessageType.OUTGOING, "2025-03-10 08:00", d.bram)  # after the range
    message(t8, MessageType.INCOMING, "2025-03-08 09:00")
    message(t9, MessageType.INCOMING, "2025-03-06 08:00")
    message(t9, MessageType.OUTGOING, "2025-03-06 08:20", d.anna)
    message(t10, MessageType.INCOMING, "2025-03-07 18:00")
    message(t10, MessageType.OUTGOING, "2025-03-10 07:20", d.bram)  # after the range

    def task(title, team, who, due, completed, due_time=None, status=TaskStatus.COMPLETED):
        db.session.add(
            InternalTask(
                task_title=title,
                assigned_team_id=team.id if team else None,
                assigned_to_user_id=who.id if who else None,
                due_date=date.fromisoformat(due) if due else None,
                due_time=due_time,
                completed_at=at(completed) if completed else None,
                status=status,
            )
        )

    # Anna's team (A) through her: on time (23:30 local on the due date).
    task("k1", None, d.anna, "2025-03-04", "2025-03-04 22:30")
    # Team B: 10:30 local against a 10:00 deadline: late.
    task("k2", d.team_b, None, "2025-03-05", "2025-03-05 09:30", due_time="10:00")
    # Team B: 09:59 local against 10:00: on time.
    task("k3", d.team_b, d.anna, "2025-03-06", "2025-03-06 08:59", due_time="10:00")
    # Team A: no due date, completed: counted, not rated.
    task("k4", d.team_a, None, None, "2025-03-07 10:00")
    # Completed after the range, and one still open: neither counted.
    task("k5", d.team_a, None, "2025-03-08", "2025-03-09 23:30")
    task("k6", d.team_a, None, "2025-03-05", None, status=TaskStatus.OPEN)
    db.session.commit()
    return d


def rows(table) -> dict:
    return {row["label"]: row for row in table.rows}


# Monday 10 March 08:30 local: t5 still waits in time, every other deadline has passed.
NOW = at("2025-03-10 07:30")


def figure(key, team_id=None):
    return compute(key, week(team_id), NOW)


def test_first_response_by_channel_and_team(data):
    by_channel = figure("first_response_channel")
    assert set(rows(by_channel)) == {"Mail", "WhatsApp"}  # no notes, no tasks
    mail, wa = rows(by_channel)["Mail"], rows(by_channel)["WhatsApp"]
    # Mail: t1 1,800 + t2 18,000 + t9 1,200 + t10 1,200 (not its 220,800 wall-clock
    # seconds over the weekend) = 22,200 / 4 = 5,550. WhatsApp: t3 600; t4, t5 and t8
    # were never answered.
    assert (mail["n"], mail["average"]) == (4, 5550)
    assert (wa["n"], wa["average"]) == (1, 600)
    assert (by_channel.total["n"], by_channel.total["average"]) == (5, 22800 / 5)

    by_team = rows(figure("first_response_team"))
    # A: t1 1,800, t3 600, t9 1,200; B: t2 18,000, t10 1,200.
    assert (by_team["Klantenservice"]["n"], by_team["Klantenservice"]["average"]) == (3, 1200)
    assert (by_team["Techniek"]["n"], by_team["Techniek"]["average"]) == (2, 9600)


def test_sla_compliance(data):
    table = figure("sla")
    assert set(rows(table)) == {"Mail", "WhatsApp"}  # no notes, no tasks
    mail, wa = rows(table)["Mail"], rows(table)["WhatsApp"]
    # Met: t1, t10. Missed: t2 (answered late, ladder step 3), t9 (escalated by a person).
    assert (mail["met"], mail["missed"], mail["running"], mail["compliance"]) == (2, 2, 0, 50.0)
    # Met: t3. Missed: t4 (overdue). Running: t5. t8 was closed unanswered: not rated.
    assert (wa["met"], wa["missed"], wa["running"], wa["compliance"]) == (1, 1, 1, 50.0)
    total = table.total
    assert (total["met"], total["missed"], total["running"], total["compliance"]) == (
        3,
        3,
        1,
        50.0,
    )
    assert table.extra["target"] == 95.0


def test_escalated_conversations_are_the_missed_ones(data):
    # One definition: every escalated conversation counts as missed, and no other.
    assert figure("escalation").total["escalated"] == figure("sla").total["missed"] == 3
    # Later, t5's deadline has passed too: it moves to both at once.
    later = at("2025-03-10 09:00")
    assert compute("escalation", week(), later).total["escalated"] == 4
    assert compute("sla", week(), later).total["missed"] == 4


def test_resolution_time(data):
    table = figure("resolution")
    assert set(rows(table)) == {"Mail", "WhatsApp"}  # n1, a note resolved in range: left out
    mail, wa = rows(table)["Mail"], rows(table)["WhatsApp"]
    # t1 32,400 business s (86,400 wall), t6 created before the range 7,200 (234,000 wall).
    assert (mail["n"], mail["average"]) == (2, (32400 + 7200) / 2)
    # t8 was closed on a Saturday: no business time passed.
    assert (wa["n"], wa["average"]) == (1, 0)
    assert table.total["average"] == (32400 + 7200 + 0) / 3


def test_message_volume_per_channel_per_day(data):
    table = figure("volume")
    assert len(table.rows) == 7
    series = dict(table.extra["series"])  # key -> channel name
    key = {name: k for k, name in series.items()}
    by_day = {row["day"]: row for row in table.rows}
    expected = {  # (mail, WhatsApp) per local day
        date(2025, 3, 3): (2, 0),
        date(2025, 3, 4): (3, 0),  # in, out, note; the system line is left out
        date(2025, 3, 5): (0, 3),
        date(2025, 3, 6): (2, 2),  # t4's 23:30Z on the 5th is the 6th in Amsterdam
        date(2025, 3, 7): (1, 0),
        date(2025, 3, 8): (0, 1),
        date(2025, 3, 9): (0, 1),
    }
    for day, (mail, wa) in expected.items():
        assert (by_day[day][key["Mail"]], by_day[day][key["WhatsApp"]]) == (mail, wa), day
        assert by_day[day]["total"] == mail + wa
    assert (table.total[key["Mail"]], table.total[key["WhatsApp"]], table.total["total"]) == (
        8,
        7,
        15,
    )


def test_escalation_rate(data):
    table = figure("escalation")
    assert set(rows(table)) == {"Klantenservice", "Techniek"}
    a, b = rows(table)["Klantenservice"], rows(table)["Techniek"]
    # A: t1, t3 (only step 2), t5, t8, t9 (escalated by a person); B: t2 (step 3), t4
    # (overdue), t10. The escalated internal task is not a customer conversation.
    assert (a["n"], a["escalated"], a["rate"]) == (5, 1, 20.0)
    assert (b["n"], b["escalated"]) == (3, 2)
    assert b["rate"] == pytest.approx(100 * 2 / 3)
    assert table.total["rate"] == 100 * 3 / 8


def test_workload_per_agent(data):
    table = figure("workload")
    assert [(r["label"], r["open"], r["sent"]) for r in table.rows] == [
        ("Anna", 3, 3),  # t3, t5, t9 open; outgoing on t1, t3, t9 (auto-responses aren't hers)
        ("Bram", 3, 1),  # t2, t7, t10 open; t7's and t10's replies were after the range
        ("Cor", 0, 0),
    ]
    assert (table.total["open"], table.total["sent"]) == (6, 4)


def test_tasks_completed_on_time(data):
    table = figure("tasks")
    a, b = rows(table)["Klantenservice"], rows(table)["Techniek"]
    assert (a["n"], a["with_due"], a["on_time"], a["share"]) == (2, 1, 1, 100.0)
    assert (b["n"], b["with_due"], b["on_time"], b["share"]) == (2, 2, 1, 50.0)
    assert table.total["share"] == pytest.approx(100 * 2 / 3)


def test_share_of_outbound_messages_from_templates(data):
    table = figure("templates")
    mail, wa = rows(table)["Mail"], rows(table)["WhatsApp"]
    # Mail: t1 (template), t2, t9; WhatsApp: t3's auto-response and reply, both templates.
    assert (mail["n"], mail["templated"]) == (3, 1)
    assert mail["share"] == pytest.approx(100 / 3)
    assert (wa["n"], wa["templated"], wa["share"]) == (2, 2, 100.0)
    assert table.total["share"] == 60.0


def test_team_filter_narrows_every_figure(data):
    team = data.team_a.id
    first = rows(figure("first_response_channel", team))
    # Mail: t1 1,800 and t9 1,200; WhatsApp: t3 600.
    assert (first["Mail"]["average"], first["WhatsApp"]["average"]) == (1500, 600)
    sla = figure("sla", team)
    # Met t1, t3; missed t9; t5 running.
    assert (sla.total["met"], sla.total["missed"], sla.total["running"]) == (2, 1, 1)
    assert sla.total["compliance"] == pytest.approx(100 * 2 / 3)
    volume = figure("volume", team)
    assert volume.total["total"] == 9  # t1 2, t3 3, t5 1, t8 1, t9 2
    assert [r["label"] for r in figure("workload", team).rows] == ["Anna", "Cor"]
    tasks = figure("tasks", team)
    assert [r["label"] for r in tasks.rows] == ["Klantenservice"]
    assert tasks.total["share"] == 100.0
    templates = figure("templates", team)
    assert (templates.total["n"], templates.total["templated"]) == (4, 3)
    escalation = figure("escalation", team)
    assert (escalation.total["n"], escalation.total["escalated"]) == (5, 1)
    resolution = rows(figure("resolution", team))
    assert (resolution["Mail"]["n"], resolution["WhatsApp"]["n"]) == (2, 1)


def test_date_range_narrows_the_figures(data):
    monday_tuesday = AnalyticsFilter(date(2025, 3, 3), date(2025, 3, 4))
    first = compute("first_response_channel", monday_tuesday, NOW)
    assert list(rows(first)) == ["Mail"]
    assert rows(first)["Mail"]["average"] == (1800 + 18000) / 2  # t1 and t2
    volume = compute("volume", monday_tuesday, NOW)
    assert [r["total"] for r in volume.rows] == [2, 3]
    # The Sunday after the range holds t7 (00:30 local on Monday 10 March) only when included.
    longer = AnalyticsFilter(date(2025, 3, 3), date(2025, 3, 10))
    assert compute("first_response_channel", longer, NOW).total["n"] == 6


def test_every_service_level_figure_says_what_it_counts(data):
    # The sentence under each figure is the one definition its SQL comes with.
    for key in ("first_response_channel", "first_response_team", "sla", "resolution"):
        assert figure(key).note == str(DEFINITIONS[key])
    assert "internal notes and tasks excluded" in figure("first_response_channel").note
    assert "business time" in figure("resolution").note
    assert "missed = escalated" in figure("sla").note
    assert "count as missed in SLA compliance" in figure("escalation").note


# --- the page and the CSV export ---------------------------------------------------


def sign_in(client, auth, email):
    assert auth.login(email).status_code == 302


def test_page_shows_every_figure_with_charts(client, auth, data):
    sign_in(client, auth, data.manager.email)
    page = client.get("/analytics", query_string=WEEK)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in FIGURES:
        assert f'data-figure="{key}"' in html
        assert f"/analytics.csv?figure={key}" in html
    assert html.count('role="img"') >= 8
    # Each chart is named and described for screen readers (the title and desc spans).
    assert 'aria-labelledby="chart-sla-title chart-sla-desc"' in html
    assert 'id="chart-sla-desc"' in html
    for key in ("first_response_channel", "sla", "resolution", "escalation"):
        assert f'data-testid="definition-{key}"' in html
    assert "Mail: 1 h 32 min; WhatsApp: 10 min" in html  # the first-response chart's text
    assert "target 95.0 %" in html
    # Compliance now (t5 overdue too: 3 met of 7), overall first response (4,560 s).
    assert "42.9 %" in html and "1 h 16 min" in html


def test_default_range_is_the_last_30_days(client, auth, data):
    sign_in(client, auth, data.manager.email)
    html = client.get("/analytics").get_data(as_text=True)
    assert "(30 days)" in html


def test_team_filter_on_the_page(client, auth, data):
    sign_in(client, auth, data.manager.email)
    html = client.get("/analytics", query_string={**WEEK, "team": str(data.team_b.id)}).get_data(
        as_text=True
    )
    assert "team Techniek" in html
    assert "Anna</td>" not in html  # workload lists team B only


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"from": "03-03-2025"}, "From", "Enter a date as YYYY-MM-DD."),
        ({"from": "2025-03-09", "to": "2025-03-03"}, "To", "must not be before"),
        ({"from": "2024-01-01", "to": "2025-03-03"}, "From", "at most 366 days"),
        ({"team": "not-a-team"}, "Team", "Choose a team from the list."),
        ({"team": "6f1c1f4e-8d1e-4a55-9d5c-2b8c6a1e0f00"}, "Team", "does not exist"),
    ],
)
def test_invalid_filters_are_explained_on_the_page(client, auth, data, args, field, message):
    sign_in(client, auth, data.manager.email)
    page = client.get("/analytics", query_string=args)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'data-testid="filter-errors"' in html
    assert f"{field}: " in html and message in html
    assert 'aria-invalid="true"' in html


def test_parse_filter_accepts_a_full_year():
    f, errors = parse_filter({"from": "2024-03-10", "to": "2025-03-10"})
    assert not errors and f.days == 366


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_csv_matches_the_table(client, auth, data):
    sign_in(client, auth, data.manager.email)
    response = client.get(
        "/analytics.csv", query_string={**WEEK, "figure": "first_response_channel"}
    )
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="switchboard-first_response_channel-2025-03-03-2025-03-09.csv"'
    )
    assert b"\r\n" in response.data
    assert read_csv(response) == [
        ["Channel", "Answered", "Average (business time) (min)"],
        [
            "Mail",
            "4",
            "92,5",
        ],
        ["WhatsApp", "1", "10,0"],
        ["All", "5", "76,0"],
    ]


def test_every_csv_has_the_rows_of_its_table(client, auth, data):
    sign_in(client, auth, data.manager.email)
    for key in FIGURES:
        table = compute(key, week(), utcnow())  # the page's now: t5 is overdue
        lines = read_csv(client.get("/analytics.csv", query_string={**WEEK, "figure": key}))
        assert len(lines) == 1 + len(table.all_rows()), key
        assert lines[0][0] == table.columns[0].label
    sla = read_csv(client.get("/analytics.csv", query_string={**WEEK, "figure": "sla"}))
    assert sla[-1] == ["All", "3", "4", "0", "42,9"]
    volume = read_csv(client.get("/analytics.csv", query_string={**WEEK, "figure": "volume"}))
    assert volume[0] == ["Day", "Mail", "WhatsApp", "Total"]
    assert volume[4] == ["2025-03-06", "2", "2", "4"]


def test_csv_filters_and_errors(client, auth, data):
    sign_in(client, auth, data.manager.email)
    team_b = read_csv(
        client.get(
            "/analytics.csv",
            query_string={**WEEK, "figure": "workload", "team": str(data.team_b.id)},
        )
    )
    assert [line[0] for line in team_b[1:]] == ["Bram", "All"]
    unknown = client.get("/analytics.csv", query_string={**WEEK, "figure": "nope"})
    assert unknown.status_code == 400
    assert "figure: Choose one of" in unknown.get_data(as_text=True)
    bad_date = client.get("/analytics.csv", query_string={"figure": "sla", "to": "soon"})
    assert bad_date.status_code == 400 and "to: Enter a date" in bad_date.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.AGENT, Role.TEAM_LEAD, Role.TECHNICIAN])
def test_only_managers_and_admins_may_look(client, auth, make_user, role):
    user = make_user(role.value)
    sign_in(client, auth, user.email)
    assert client.get("/analytics").status_code == 403
    assert client.get("/analytics.csv?figure=sla").status_code == 403
    assert "/analytics" not in client.get("/inbox").get_data(as_text=True)


def test_admins_see_it_and_the_nav_links_it(client, auth, make_user):
    admin = make_user("admin")
    sign_in(client, auth, admin.email)
    page = client.get("/analytics")
    assert page.status_code == 200
    assert 'href="/analytics"' in page.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_login(client):
    assert client.get("/analytics").status_code == 302


def test_a_long_range_shows_volume_per_week_and_the_csv_keeps_days(client, auth, data):
    # 2025-01-01 (a Wednesday) to 2025-04-30: 120 days, over the 92 shown per day.
    long = AnalyticsFilter(date(2025, 1, 1), date(2025, 4, 30))
    table = compute("volume", long, NOW)
    assert table.title == "Message volume per channel per week"
    days = [row["day"] for row in table.rows]
    # The range's first day, then every Monday: 18 rows, not 120.
    assert days[0] == date(2025, 1, 1) and days[1] == date(2025, 1, 6)
    assert all(day.weekday() == 0 for day in days[1:]) and len(days) == 18
    key = {name: k for k, name in table.extra["series"]}
    fixture_week = next(row for row in table.rows if row["day"] == date(2025, 3, 3))
    # The fixture's week of 3 March, summed: 8 mail and 7 WhatsApp messages.
    assert (fixture_week[key["Mail"]], fixture_week[key["WhatsApp"]]) == (8, 7)
    daily = compute("volume", replace(long, every_day=True), NOW)
    assert len(daily.rows) == 120
    assert table.total == daily.total  # the same messages, only grouped otherwise
    assert table.total["total"] == sum(row["total"] for row in table.rows) > 15

    sign_in(client, auth, data.manager.email)
    query = {"from": "2025-01-01", "to": "2025-04-30"}
    page = client.get("/analytics", query_string=query).get_data(as_text=True)
    assert "Messages per week" in page and "busiest week from" in page
    assert "Table by week" in page and "Table by day" not in page
    lines = read_csv(client.get("/analytics.csv", query_string={**query, "figure": "volume"}))
    assert lines[0][0] == "Day" and len(lines) == 1 + 120 + 1  # header, days, total
