"""Visit reminders on two ``worker.py`` processes: one reminder per visit.

Forty customers on WhatsApp have a visit tomorrow. The reminder job is queued
several times (the scheduler's slot, a run by hand, a retried job) before two
real workers start taking it from Redis together, each run reaching for the
same visits. The fake WhatsApp Cloud API must then have received exactly one
``visit_reminder`` per customer, with the buttons naming that customer's own
reminder, and ``visit_reminders`` hold one row per visit.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time as clock
from collections import Counter
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import Visit, VisitReminder, VisitTechnician
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.mobile_support import visit
from tests.support.reminder_support import add_reminder_template
from tests.support.topology import wait_until
from tests.support.whatsapp_support import (
    fake_whatsapp_server,
    whatsapp_app_without_worker,
    whatsapp_settings,
)

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

VISITS = 40
RUNS = 5
SETTLE_SECONDS = 120.0
REMIND_VISITS = "app.orders.visit_reminders.sending.remind_visits"
# The whole day is reminder time, so the run does not depend on when the suite runs.
ALL_DAY = {"VISIT_REMINDER_TIME": "00:00", "VISIT_CONFIRM_BY": "23:59"}

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app_without_worker, name="app")


@pytest.fixture
def workers(app, fake_whatsapp, deployment):
    return deployment(**whatsapp_settings(fake_whatsapp), **ALL_DAY)


def visits_tomorrow(make_user) -> dict[str, str]:
    """Forty orders, each with one visit tomorrow and a customer on WhatsApp only;
    the customer's WhatsApp number (digits) by visit id."""
    add_reminder_template()
    tech = make_user("technician", phone="+31611112222")
    tomorrow = local_today() + timedelta(days=1)
    numbers = {}
    for n in range(VISITS):
        phone = f"+3161300{n:04d}"
        order = visit(
            tech,
            number=f"CC-2026-{n + 500:05d}",
            day=tomorrow,
            with_whatsapp=(n == 0),
            contact_fields={"phone": phone, "email": None, "display_name": f"Klant {n}"},
        )
        row = Visit(
            order_id=order.id,
            number=1,
            scheduled_date=tomorrow,
            window_start=time(8 + n % 8),
            window_end=time(9 + n % 8),
        )
        db.session.add(row)
        db.session.flush()
        db.session.add(VisitTechnician(visit_id=row.id, technician_id=tech.id, is_lead=True))
        numbers[str(row.id)] = phone.removeprefix("+")
    db.session.commit()
    return numbers


def reminders_sent(fake) -> list[dict]:
    return [
        body
        for body in fake.sent()
        if body.get("type") == "template" and body["template"]["name"] == "visit_reminder"
    ]


def test_two_workers_remind_each_visit_exactly_once(app, make_user, workers, fake_whatsapp):
    numbers = visits_tomorrow(make_user)
    for _ in range(RUNS):
        enqueue(REMIND_VISITS, queue="periodic")

    workers.start_worker()
    workers.start_worker()
    wait_until(
        lambda: len(reminders_sent(fake_whatsapp)) >= VISITS, SETTLE_SECONDS, "every reminder"
    )
    wait_until(
        lambda: (
            app.extensions["broker"].queue("periodic").count == 0
            and app.extensions["broker"].queue("default").count == 0
        ),
        SETTLE_SECONDS,
        "the reminder and send jobs taken",
    )
    clock.sleep(1.0)  # a second reminder, if any, would have reached the fake by now

    sent = reminders_sent(fake_whatsapp)
    assert Counter(body["to"] for body in sent) == Counter(numbers.values())
    db.session.expire_all()
    reminders = db.session.scalars(sa.select(VisitReminder)).all()
    assert sorted(str(r.visit_id) for r in reminders) == sorted(numbers)
    assert all(r.message_id is not None for r in reminders)
    # Each customer's buttons name their own reminder.
    by_id = {str(r.id): numbers[str(r.visit_id)] for r in reminders}
    for body in sent:
        confirm = body["template"]["components"][1]["parameters"][0]["payload"]
        assert by_id[confirm.removeprefix("visit-confirm:")] == body["to"]
