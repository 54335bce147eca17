"""Analytics in the browser: a manager reads /analytics in Dutch on the demo data.

At 1440×900 every service-level figure shows its definition, no table is wider
than its card (nothing clipped, nothing scrolled sideways), and every chart's
text has one size, whatever the card's width. The same holds on a phone.
``docs/analytics*.png`` are taken with ``ANALYTICS_SHOTS=docs``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.analytics.rollups import rebuild
from app.platform.extensions import db
from app.seed.demo import load_demo_data
from tests.e2e.test_sign_in import sign_in
from tests.support.seeded_once import SeededOnce

SHOTS = os.environ.get("ANALYTICS_SHOTS")
DEFINED = ("first_response_channel", "first_response_team", "sla", "resolution", "escalation")

MEASURE = """() => ({
  overflowing: [...document.querySelectorAll('.analytics-card .table-wrap')]
    .filter(wrap => wrap.scrollWidth > wrap.clientWidth)
    .map(wrap => wrap.closest('section').id),
  clippedHeadings: [...document.querySelectorAll('.analytics-table th')]
    .filter(th => th.scrollWidth > th.clientWidth).map(th => th.textContent),
  pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  chartTextSizes: [...new Set([...document.querySelectorAll(
      '.chart text, .chart-label, .chart-value, .chart-key, .chart-axis-label')]
    .filter(element => element.getClientRects().length)
    .map(element => getComputedStyle(element).fontSize))],
  charts: document.querySelectorAll('.chart').length,
  // A card taller than what is in it: stretched to its row's tallest neighbour.
  stretched: [...document.querySelectorAll('.analytics-grid > .analytics-card')]
    .filter(card => card.getBoundingClientRect().bottom - Math.max(
      ...[...card.children].map(child => child.getBoundingClientRect().bottom)) > 40)
    .map(card => card.id),
})"""


def _demo_with_roll_ups() -> None:
    load_demo_data()
    db.session.commit()
    # Past days from the daily roll-ups, as in production once the job has run.
    rebuild()
    db.session.commit()


# The three screens read the same figures: the demo is built once per test process.
_DEMO = SeededOnce()


@pytest.fixture
def manager(app, make_user):
    _DEMO.seed(_demo_with_roll_ups)
    return make_user("manager", email="mies@switchboard.test", language="nl")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


@pytest.mark.parametrize(
    ("width", "height", "scheme", "shot"),
    [
        (1440, 900, "light", "analytics.png"),
        (375, 812, "light", "analytics-phone.png"),
        (1440, 900, "dark", "analytics-dark.png"),
    ],
)
def test_a_manager_reads_the_figures_in_dutch(
    live_server, browser, manager, width, height, scheme, shot
):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/analytics")
        expect(page.locator("h1")).to_have_text("Statistieken")

        for key in DEFINED:
            definition = page.get_by_test_id(f"definition-{key}")
            expect(definition).to_be_visible()
            expect(definition).to_contain_text("Definitie:")
        expect(page.get_by_test_id("definition-sla")).to_contain_text("gemist = geëscaleerd")
        expect(page.get_by_test_id("definition-first_response_channel")).to_contain_text(
            "interne notities en taken tellen niet mee"
        )
        # Internal channels are in no service-level table.
        for key in ("sla", "first_response_channel", "resolution"):
            expect(page.locator(f'[data-figure="{key}"]')).not_to_contain_text("Interne")
        # A headline number leads to its figure, where the definition is.
        page.locator(".headline-link[href='#figure-sla']").click()
        expect(page).to_have_url(f"{live_server.url}/analytics#figure-sla")

        # The order SLA: its figures, and the orders waiting too long now.
        order_sla = page.locator("#figure-order_sla")
        expect(order_sla.locator("h2")).to_have_text("Order-SLA")
        expect(order_sla).to_contain_text("Mediane wachttijd (werkuren)")
        expect(page.get_by_test_id("definition-order_sla")).to_contain_text("werkuren")
        expect(page.get_by_test_id("orders-waiting-too-long")).to_be_visible()

        measured = page.evaluate(MEASURE)
        assert measured["overflowing"] == [], measured
        assert measured["clippedHeadings"] == [], measured
        assert measured["pageOverflow"] <= 0, measured
        assert measured["stretched"] == [], measured
        assert measured["charts"] >= 8
        assert measured["chartTextSizes"] == ["13px"], measured
        _shot(page, shot)
        if width == 1440 and scheme == "light" and SHOTS:
            order_sla.screenshot(path=str(Path(SHOTS) / "analytics-order-sla.png"))
    finally:
        context.close()
