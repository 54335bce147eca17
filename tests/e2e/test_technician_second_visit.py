"""On a 375 × 812 phone a technician works the second day of a two-day order."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, Visit, VisitTechnician
from app.platform.models.enums import OrderStatus
from app.platform.models.planning import SECOND_DAY
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.mobile_support import visit

PHONE = {"width": 375, "height": 812}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "phone-second-visit.png"


def _second_day_today(technician) -> Order:
    """Begun yesterday (visit 1 done), its second day today 13:00–17:00."""
    order = visit(technician, status=OrderStatus.IN_PROGRESS)
    today = local_today()
    for number, purpose, day, window, done in (
        (1, None, today - timedelta(days=1), (time(8), time(17)), True),
        (2, SECOND_DAY, today, (time(13), time(17)), False),
    ):
        row = Visit(
            order_id=order.id,
            number=number,
            purpose=purpose,
            scheduled_date=day,
            window_start=window[0],
            window_end=window[1],
            materials="Graafschop\nGrondkabel 25 m" if number == 2 else "Alfen Eve Single",
            technician_notes="Sleuf naar de oprit dichten" if number == 2 else None,
            planned_at=utcnow() - timedelta(days=5),
            started_at=utcnow() - timedelta(days=1) if done else None,
            completed_at=utcnow() - timedelta(days=1) if done else None,
            version=1,
        )
        row.crew.append(VisitTechnician(technician_id=technician.id, is_lead=True))
        db.session.add(row)
    db.session.commit()
    return order


def test_the_second_day_on_the_phone(live_server, browser, make_user):
    technician = make_user("technician", email="monteur@switchboard.test")
    order = _second_day_today(technician)

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL")
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        expect(card.get_by_test_id("visit-line")).to_have_text("Bezoek 2 van 2 · tweede dag")
        expect(card.get_by_test_id("visit-window")).to_have_text("13:00–17:00")
        expect(card.get_by_test_id("visit-materials")).to_contain_text("Grondkabel 25 m")
        expect(card.get_by_test_id("visit-technician-notes")).to_contain_text("Sleuf naar de oprit")
        expect(card.get_by_role("button", name="Begonnen")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"page is {width}px wide on a 375px screen"
        page.wait_for_load_state("load")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        card.get_by_role("button", name="Begonnen").click()
        expect(card.get_by_test_id("visit-notice")).to_have_text("CC-2026-00042: bezoek begonnen.")
        card.get_by_role("button", name="Afgerond").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_test_id("return-visit")).to_be_visible()
        dialog.get_by_role("button", name="Ja, afgerond").click()
        expect(card.get_by_test_id("visit-status")).to_have_text("afgerond")
    finally:
        phone.close()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.COMPLETED
    assert all(v.completed_at is not None for v in order.visits)
