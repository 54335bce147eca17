"""Chart axes: ticks at 1-2-5 steps (time units for durations), never more than six labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.analytics.charts import bar_chart, day_chart, nice_step, value_axis
from app.analytics.tables import COUNT, DURATION, PERCENT, Column, Table


@pytest.mark.parametrize(
    ("peak", "kind", "step"),
    [
        (7, COUNT, 2),  # 0 2 4 6 8
        (43, COUNT, 10),
        (295, COUNT, 100),
        (1140, COUNT, 500),
        (3, COUNT, 1),
        (2400, DURATION, 600),  # 40 min: 10-minute steps
        (5550, DURATION, 1800),  # 1 h 32: half hours
        (40_680, DURATION, 4 * 3600),  # 11 h 18 min: 4-hour steps
        (87.5, PERCENT, 25),
    ],
)
def test_steps_are_one_two_five(peak, kind, step):
    assert nice_step(peak, kind) == step


def test_the_axis_covers_the_peak_in_at_most_five_steps(app):
    for peak in (1, 9, 11, 99, 101, 777, 12_345):
        end, ticks = value_axis(peak, COUNT)
        assert end >= peak and len(ticks) <= 6
        assert ticks[0].at == 0 and ticks[-1].at == 100
    end, ticks = value_axis(5550, DURATION)
    assert end == 7200
    assert [t.text for t in ticks] == ["0 min", "30 min", "1 h", "90 min", "2 h"]
    # On a narrow card every other label hides, so they never overlap.
    assert [t.minor for t in ticks] == [False, True, False, True, False]


def test_bars_are_a_share_of_the_axis_and_the_target_sits_on_it(app):
    table = Table(
        "sla",
        "SLA",
        (Column("label", "Channel"), Column("compliance", "Compliance", PERCENT)),
        [{"label": "Mail", "compliance": 50.0}, {"label": "Chat", "compliance": 100.0}],
    )
    with app.test_request_context():
        chart = bar_chart(table, "compliance", PERCENT, "SLA", target=95.0)
    assert [bar.percent for bar in chart.bars] == [50.0, 100.0]
    assert [bar.tone for bar in chart.bars] == ["bad", "good"]
    assert chart.target_percent == 95.0
    assert [t.text for t in chart.ticks] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    assert [t.minor for t in chart.ticks] == [False, True, False, True, False]


def test_day_chart_labels_mondays_once_a_week(app):
    first = date(2026, 10, 24)  # a Saturday
    rows = [{"day": first + timedelta(days=n), "ch0": n, "total": n} for n in range(30)]
    table = Table("volume", "Volume", (Column("day", "Day"),), rows)
    table.extra["series"] = [("ch0", "Mail")]
    with app.test_request_context():
        chart = day_chart(table, "Messages per day")
    # The busiest day has 29: ticks 0–30 by 10, the highest at the top (0 % from it).
    assert [(t.text, round(t.at)) for t in chart.y_ticks] == [
        ("0", 100),
        ("10", 67),
        ("20", 33),
        ("30", 0),
    ]
    labelled = [rows[round(t.at / 100 * 30 - 0.5)]["day"] for t in chart.x_ticks]
    # Mondays 26 October, 2, 9 and 16 November.
    assert all(day.weekday() == 0 for day in labelled) and len(labelled) == 4
    assert chart.columns[29].segments[0][1] == pytest.approx(29 / 30 * 100, abs=0.001)
