"""Analytics that explain themselves: SLA coverage by reason, series colours, definitions.

The figures come from the week of conversations in :mod:`tests.analytics.test_analytics`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa

from app.analytics.charts import SERIES_COLOURS, day_chart
from app.analytics.definitions import NO_CHANNEL, SLA_OUTSIDE, customer_thread
from app.analytics.tables import COUNT, Column, Table
from app.platform.extensions import db
from app.platform.models import CommunicationThread
from app.platform.models.enums import ThreadStatus
from tests.analytics.test_analytics import NOW, WEEK, at, data, figure, sign_in, week  # noqa: F401

SERIES = re.compile(r"--series-(\d+):\s*(#[0-9a-fA-F]+)")
THEME = Path(__file__).resolve().parents[2] / "static" / "css" / "theme.css"


def test_sla_table_accounts_for_every_conversation_by_reason(data):  # noqa: F811
    # Opened by us (an outgoing mail on Wednesday), the customer never wrote: no clock.
    db.session.add(
        CommunicationThread(
            thread_subject="Uw offerte",
            channel_id=data.mail.id,
            assigned_team_id=data.team_a.id,
            created_at=at("2025-03-05 09:00"),
            last_message_at=at("2025-03-05 09:00"),
            status=ThreadStatus.WAITING_CUSTOMER,
        )
    )
    db.session.commit()
    table = figure("sla")
    coverage = table.extra["coverage"]
    outside = {key: count for key, _label, count, _definition in coverage.outside}
    assert list(outside) == list(SLA_OUTSIDE)
    # Met t1 t3 t10, missed t2 t4 t9; t5 waits in time; t8 closed unanswered (spam);
    # the new one was opened by us.
    assert coverage.rated == 6
    assert outside == {"running": 1, "closed_unanswered": 1, "not_asked": 1}
    everything = db.session.scalar(
        sa.select(sa.func.count()).where(
            customer_thread(),
            CommunicationThread.created_at >= week().start,
            CommunicationThread.created_at < week().end,
        )
    )
    assert coverage.rated + sum(outside.values()) == coverage.conversations == everything
    assert coverage.conversations == figure("escalation").total["n"]


def _series_colours() -> list[dict[int, str]]:
    """Each block of theme.css (light, dark, dark by system) as series number -> colour."""
    blocks = re.findall(r"\{([^{}]*--series-0[^{}]*)\}", THEME.read_text())
    return [
        {int(n): colour.lower() for n, colour in SERIES.findall(block)}
        for block in blocks
    ]


def test_chart_series_have_distinct_colours_light_and_dark(app):
    blocks = _series_colours()
    assert len(blocks) == 3  # light, dark chosen, dark by the system
    for colours in blocks:
        assert sorted(colours) == list(range(SERIES_COLOURS))
        assert len(set(colours.values())) == SERIES_COLOURS, colours
    assert blocks[1] == blocks[2]
    # A chart with as many series as there are colours gives each its own.
    names = [f"Kanaal {n}" for n in range(SERIES_COLOURS - 1)] + [str(NO_CHANNEL)]
    keys = [f"ch{n}" for n in range(len(names))]
    row = {"day": week().first_day, "total": len(names), **dict.fromkeys(keys, 1)}
    series = list(zip(keys, names, strict=True))
    table = Table("volume", "", tuple(Column(k, n, COUNT) for k, n in series), [row])
    table.extra["series"] = series
    chart = day_chart(table, "")
    assert len({series for series, _name, _definition in chart.legend}) == len(names)
    assert len({segment[2] for segment in chart.columns[0].segments}) == len(names)


class _Definitions(HTMLParser):
    """Column headings, headline numbers and legend entries of the page, with their definitions."""

    def __init__(self):
        super().__init__()
        self.items: list[dict] = []
        self.ids: dict[str, str] = {}
        self._open_id: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        legend = tag == "li" and "has-definition" in classes
        if tag == "th" or "headline-link" in classes or legend:
            self.items.append({"tag": tag, **attrs})
        if tag == "span" and attrs.get("id", "").startswith("def-"):
            self._open_id = attrs["id"]
            self.ids[self._open_id] = ""

    def handle_data(self, text):
        if self._open_id:
            self.ids[self._open_id] += text

    def handle_endtag(self, tag):
        if tag == "span":
            self._open_id = None


def test_every_figure_on_the_page_has_its_definition(client, auth, data):  # noqa: F811
    sign_in(client, auth, data.manager.email)
    html = client.get("/analytics", query_string=WEEK).get_data(as_text=True)
    page = _Definitions()
    page.feed(html)
    headings = [item for item in page.items if item["tag"] == "th"]
    headlines = [item for item in page.items if "headline-link" in item.get("class", "")]
    legend = [item for item in page.items if item["tag"] == "li"]
    assert len(headings) > 40 and len(headlines) == 10 and legend
    for item in page.items:
        assert item.get("title", "").strip(), item
        assert item["title"] == item["data-definition"]
        if item["tag"] != "li":  # a legend entry reads its definition inline
            assert page.ids[item["aria-describedby"]].strip() == item["title"], item
    # Under the SLA table: the rated ones (t5 is overdue by now), the others by reason.
    assert 'data-testid="sla-coverage"' in html
    assert 'data-testid="sla-rated">7<' in html
    assert 'data-reason="closed_unanswered" data-count="1"' in html
