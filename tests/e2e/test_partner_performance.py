"""Partner performance in a browser: a Dutch admin reads partner performance and downloads it."""

from __future__ import annotations

import csv
import io
import os

from playwright.sync_api import expect

from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.orders.test_partner_performance import build_fixture

SHOTS = os.environ.get("PARTNER_PERFORMANCE_SHOTS")  # a folder, to look at the page


def _no_sideways_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


def test_admin_reads_partner_performance_in_dutch(live_server, browser, make_user):
    make_user("admin", email="admin@switchboard.test", language="nl")
    build_fixture()
    for width, height in ((1440, 900), (375, 812)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            sign_in(page, live_server.url, "admin@switchboard.test")
            page.goto(f"{live_server.url}/partners/")
            section = page.get_by_test_id("partner-performance")
            expect(section.get_by_role("heading", name="Prestaties")).to_be_visible()
            # 30 days by default: all seven of Alfa's orders, nothing before.
            alfa = section.locator('tr[data-partner="Alfa Laadpalen"]')
            expect(alfa.locator('[data-figure="orders"]')).to_contain_text("7")
            expect(section.locator('[aria-current="true"]')).to_have_text("30 dagen")

            section.get_by_role("link", name="7 dagen").click()
            expect(section.locator('[aria-current="true"]')).to_have_text("7 dagen")
            expect(alfa.locator('[data-figure="orders"]')).to_contain_text("4")
            expect(alfa.locator('[data-figure="orders"]')).to_contain_text("+100,0 %")
            expect(alfa.locator('[data-figure="order-value"]')).to_contain_text("€\u00a01.500,00")
            expect(alfa.locator('[data-figure="review"]')).to_contain_text("25,0 %")
            expect(alfa.locator('[data-figure="review"]')).to_contain_text("-25,0 %-punt")
            expect(alfa.locator('[data-figure="api"]')).to_contain_text("10,0 %")
            expect(alfa.locator('[data-figure="latency"]')).to_contain_text("≤ 50 ms / ≤ 500 ms")
            expect(alfa.locator('[data-figure="callbacks"]')).to_contain_text("75,0 %")
            expect(alfa.locator(".trend-good").first).to_be_visible()
            expect(section.locator('tr[data-partner="Bèta Energie"]')).to_be_visible()
            _no_sideways_scroll(page, width)
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/partner-performance-{width}.png", full_page=True)

            with page.expect_download() as download:
                section.get_by_test_id("performance-csv").click()
            path = download.value.path()
            with open(path, encoding="utf-8") as file:
                rows = list(csv.DictReader(io.StringIO(file.read())))
            exported = next(row for row in rows if row["partner"] == "Alfa Laadpalen")
            assert (exported["period_days"], exported["orders"]) == ("7", "4")
            assert exported["average_order_value_eur"] == "1500.00"
        finally:
            context.close()
