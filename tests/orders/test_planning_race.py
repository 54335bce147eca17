"""Two planners saving the same plan at the same moment: one plan,
one customer message, one partner callback, one push job; the other planner is told
the plan changed under them. Needs PostgreSQL: a second transaction waits on the
first one's row (or unique key) and then finds the version taken."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.orders.deliveries.partner_events import VISIT_RESCHEDULED
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, OutboundDelivery, Visit, VisitNotice
from tests.conftest import TEST_DATABASE_URL
from tests.support.helpers import AuthActions, csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, plan_form, working_day

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL's row locks (CI runs it)"
)


@pytest.fixture
def pushes(monkeypatch):
    """The push jobs the VisitPlanned listener queues (every technician subscribed)."""
    queued: list[tuple] = []
    monkeypatch.setattr("app.orders.mobile.listeners.push_enabled", lambda: True)
    monkeypatch.setattr("app.orders.mobile.listeners.has_subscription", lambda user_id: True)
    monkeypatch.setattr(
        "app.orders.mobile.listeners.enqueue",
        lambda path, *args, **kw: queued.append((path, *args)),
    )
    return queued


def _signed_in(app, make_user):
    client = app.test_client()
    planner = make_user("team_lead", language="nl")
    AuthActions(client).login(planner.email)
    return client


def _race(app, clients, order, forms):
    """Both planners' forms are loaded first, then posted at the same moment."""
    tokens = [
        csrf_token_from(c.get(f"/planning/orders/{order.order_number}").get_data(as_text=True))
        for c in clients
    ]
    barrier = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def post(index):
        barrier.wait(timeout=10)
        answers[index] = clients[index].post(
            f"/planning/orders/{order.order_number}",
            data={**forms[index], "csrf_token": tokens[index]},
        )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize("replan", [False, True], ids=["first plan", "re-plan"])
def test_two_planners_at_once_make_one_plan_and_tell_everyone_once(app, make_user, pushes, replan):
    tech = make_user("technician", skills=["alfen"])
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED],
    )
    order = approved_order(
        partner_organization_id=partner.organization.id, partner_order_id="GRO-RACE"
    )
    clients = [_signed_in(app, make_user), _signed_in(app, make_user)]
    day = working_day()
    version = 0
    if replan:
        first = _race(app, clients[:1], order, [plan_form([tech], day)])[0]
        assert first.status_code == 303
        drain_queues(app)
        version = 1
    before = {
        "deliveries": db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))),
        "messages": db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))),
        "pushes": len(pushes),
    }
    forms = [
        plan_form([tech], day, "13:00", "15:00", version=version),
        plan_form([tech], day, "14:00", "16:00", version=version),
    ]
    answers = _race(app, clients, order, forms)
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [303, 409], [a.get_data(as_text=True)[-2000:] for a in answers]
    refused = next(a for a in answers if a.status_code == 409).get_data(as_text=True)
    assert "Iemand anders heeft deze planning intussen gewijzigd" in refused
    drain_queues(app)
    db.session.expire_all()
    visit = db.session.scalar(sa.select(Visit))
    assert visit.version == version + 1
    notices = db.session.scalars(sa.select(VisitNotice).where(VisitNotice.version == version + 1))
    assert [n.kind for n in notices] == ["moved" if replan else "planned"]
    deliveries = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at)
    ).all()
    assert len(deliveries) == before["deliveries"] + 1
    assert deliveries[-1].event_type == (VISIT_RESCHEDULED if replan else "visit_scheduled")
    messages = db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id)))
    assert messages == before["messages"] + 1
    new_pushes = pushes[before["pushes"] :]
    assert [(p[0], p[2]) for p in new_pushes] == [
        ("app.orders.mobile.push_jobs.push_visit_planned", str(tech.id))
    ]
