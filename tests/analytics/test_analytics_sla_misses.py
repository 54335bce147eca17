"""The SLA table says which conversations missed and why, and every figure and series
says what it counts (its own definition).

The conversations are the week of :mod:`tests.analytics.test_analytics`; at its ``NOW``
(Monday 08:30 local) t2, t4 and t9 are the missed ones.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from app.analytics.charts import day_chart
from app.analytics.definitions import (
    DEFINITIONS,
    NO_CHANNEL,
    NO_CHANNEL_DEFINITION,
    SERIES_DEFINITIONS,
    column_definition,
)
from app.analytics.sla_misses import LATE, WAITING, sla_misses
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import ChannelType, MessageType
from tests.analytics.test_analytics import NOW, WEEK, at, data, figure, sign_in, week  # noqa: F401

HOUR = 3600


def _subjects(misses) -> list[tuple]:
    return [(m.subject, m.how, m.cycle, m.late_seconds) for m in misses.items]


def test_the_missed_conversations_are_those_the_sla_table_counts_with_how_late(data):  # noqa: F811
    misses = sla_misses(week(), NOW)
    assert misses.total == len(misses.items) == figure("sla").total["missed"] == 3
    # Most overdue first, in business time (Mon–Fri 07:00–16:00Z in March):
    # t4 waits since its deadline Thu 08:00Z: Thu 8 h + Fri 9 h + Mon 0.5 h;
    # t9 was escalated by a person Thu 08:30Z, its 30 minutes ran out at 09:00Z;
    # t2 was answered at 15:00Z, an hour after its 14:00Z deadline.
    assert _subjects(misses) == [
        ("Vraag 2025-03-05 23:30", WAITING, 1, 17.5 * HOUR),
        ("Vraag 2025-03-06 08:00", WAITING, 2, 16.5 * HOUR),
        ("Vraag 2025-03-04 10:00", LATE, 1, HOUR),
    ]
    assert [m.deadline_label for m in misses.items] == [
        "First response",
        "Later response",
        "First response",
    ]
    # The team filter keeps its own: Klantenservice has only t9.
    assert [m.subject for m in sla_misses(week(data.team_a.id), NOW).items] == [
        "Vraag 2025-03-06 08:00"
    ]


def test_the_sla_card_lists_them_and_the_csv_has_every_one(client, auth, data):  # noqa: F811
    sign_in(client, auth, data.manager.email)
    html = client.get("/analytics", query_string=WEEK).get_data(as_text=True)
    card = html[html.index('id="figure-sla"') : html.index('id="figure-resolution"')]
    # On the page it is later: t5's deadline has passed too.
    assert 'data-testid="sla-misses" data-total="4"' in card
    assert "4 conversations missed the SLA" in card
    for thread in db.session.scalars(
        sa.select(CommunicationThread).where(CommunicationThread.thread_subject.like("Vraag%"))
    ):
        linked = f'href="/threads/{thread.id}"' in card
        assert linked == (thread.thread_subject in MISSED_ON_THE_PAGE), thread.thread_subject
    answer = client.get("/analytics.csv", query_string={**WEEK, "figure": "sla_missed"})
    assert answer.status_code == 200
    lines = list(
        csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert lines[0][:4] == ["Conversation", "Channel", "Deadline missed", "How it ended"]
    assert {line[0] for line in lines[1:]} == MISSED_ON_THE_PAGE


MISSED_ON_THE_PAGE = {
    "Vraag 2025-03-04 10:00",
    "Vraag 2025-03-05 23:30",
    "Vraag 2025-03-06 08:00",
    "Vraag 2025-03-09 22:59",
}


def test_each_volume_series_and_each_ratings_figure_has_its_own_definition(data):  # noqa: F811
    # A note written in t1 (no channel, as the owner writes notes) and one in the
    # internal notes channel: each series says what it counts.
    t1 = db.session.scalar(
        sa.select(CommunicationThread).where(
            CommunicationThread.thread_subject == "Vraag 2025-03-03 08:00"
        )
    )
    db.session.add_all(
        [
            CommunicationMessage(
                thread_id=t1.id,
                message_type=MessageType.INTERNAL_NOTE,
                created_at=at("2025-03-03 09:00"),
                message_content="…",
            ),
            CommunicationMessage(
                thread_id=t1.id,
                channel_id=data.notes.id,
                message_type=MessageType.INTERNAL_NOTE,
                created_at=at("2025-03-03 09:05"),
                message_content="…",
            ),
        ]
    )
    db.session.commit()
    table = figure("volume")
    definitions = {c.label: c.definition for c in table.columns if c.key.startswith("ch")}
    assert definitions == {
        "Mail": str(SERIES_DEFINITIONS[ChannelType.EMAIL_OUTLOOK]),
        "WhatsApp": str(SERIES_DEFINITIONS[ChannelType.WHATSAPP_BUSINESS]),
        "Notities": str(SERIES_DEFINITIONS[ChannelType.INTERNAL_COMMENT]),
        str(NO_CHANNEL): str(SERIES_DEFINITIONS[None]),
    }
    assert "internal notes" in definitions[str(NO_CHANNEL)].lower()
    assert "internal notes" not in definitions["Mail"]
    # The legend reads the same line as the table's column.
    chart = day_chart(table, "")
    assert {name: definition for _n, name, definition in chart.legend} == definitions
    # The four ratings figures group differently, and each says how.
    notes = {key: figure(key).note for key in ("csat_agent", "csat_team", "csat_channel")}
    notes["csat_week"] = figure("csat_week").note
    assert len(set(notes.values())) == 4
    assert notes == {key: str(DEFINITIONS[key]) for key in notes}
    assert "agent" in notes["csat_agent"] and "channel" in notes["csat_channel"]
    assert "week" in notes["csat_week"] and "team" in notes["csat_team"]


def test_no_channel_is_explained_where_such_a_row_is_shown(data):  # noqa: F811
    table = figure("sla")
    label = next(column for column in table.columns if column.key == "label")
    assert str(NO_CHANNEL) not in column_definition(table, label)
    # A conversation opened in Switchboard without a channel, in which the customer wrote.
    db.session.add(
        CommunicationThread(
            thread_subject="Teruggebeld",
            channel_id=None,
            created_at=at("2025-03-05 09:00"),
            last_message_at=at("2025-03-05 09:00"),
            sla_started_at=at("2025-03-05 09:00"),
            first_response_at=at("2025-03-05 09:10"),
        )
    )
    db.session.commit()
    table = figure("sla")
    assert str(NO_CHANNEL) in {row["label"] for row in table.rows}
    assert column_definition(table, label).endswith(str(NO_CHANNEL_DEFINITION))
