"""The customer's planning message about a later visit of their order (a second
day, a return visit): it says it is a further visit and names that visit's day."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from app.orders.planning.services import add_visit
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Visit, VisitNotice
from app.platform.models.enums import ChannelType
from app.platform.models.planning import MISSING_PART
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number, take_back, two_visits


def _messages(number: int) -> list[str]:
    """The texts sent about visit ``number``, in order."""
    db.session.expire_all()
    notices = db.session.scalars(
        sa.select(VisitNotice)
        .join(Visit, Visit.id == VisitNotice.visit_id)
        .where(Visit.number == number)
        .order_by(VisitNotice.created_at)
    ).all()
    assert all(notice.sent_at is not None for notice in notices), [n.problem for n in notices]
    return [db.session.get(CommunicationMessage, n.message_id).message_content for n in notices]


def test_the_second_visits_messages_say_so_and_name_its_own_day(app, make_user):
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"], language="nl")
    order = approved_order(with_whatsapp=False)
    first, second, third = working_day(7), working_day(9), working_day(11)

    two_visits(order, [tech], first, second, planner)
    drain_queues(app)
    plan_number(order, 2, [tech], third, planner, time(13), time(17))
    drain_queues(app)
    take_back(order, 2, planner)
    drain_queues(app)

    [planned_first] = _messages(1)
    assert "De installatie van uw laadpaal (order CC-2026-00101) is ingepland" in planned_first
    assert f"op {first:%d-%m-%Y} tussen 08:00 en 12:00" in planned_first
    planned, moved, cancelled = _messages(2)
    assert "tweede bezoek" in planned and "om de installatie af te maken" in planned
    assert f"Uw tweede bezoek is ingepland op {second:%d-%m-%Y} tussen 13:00 en 17:00" in planned
    assert f"{first:%d-%m-%Y}" not in planned
    assert "De afspraak voor uw tweede bezoek" in moved and "verplaatst" in moved
    assert f"De monteur komt nu op {third:%d-%m-%Y} tussen 13:00 en 17:00" in moved
    assert "De afspraak voor uw tweede bezoek" in cancelled and "vervallen" in cancelled
    subjects = db.session.scalars(
        sa.select(CommunicationMessage.subject).order_by(CommunicationMessage.created_at)
    ).all()
    assert "Uw tweede bezoek ingepland (CC-2026-00101)" in subjects


def test_an_admins_further_visit_template_reads_the_notices_visit(app, make_user):
    """The template's date, hours and technician are the later visit's, though the
    order's own day and technician are still its first visit's."""
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"], language="nl")
    kees = make_user("technician", skills=["alfen"], language="nl")
    kees.name = "Kees Monteur"
    order = approved_order(with_whatsapp=False)
    factories.template(
        "Beste {{customer_name}}, uw {{visit_name}} ({{visit_number}}) is op {{visit_date}} "
        "{{visit_hours}} met {{technician_name}}; de installatiedatum {{installation_date}}.",
        template_name="further_visit_planned",
        channel_type=ChannelType.EMAIL_OUTLOOK.value,
        subject_template="Vervolgbezoek {{order_id}}",
        is_active=True,
        language="nl",
    )
    db.session.commit()
    first, second = working_day(7), working_day(9)
    plan_number(order, 1, [tech], first, planner)
    add_visit(db.session.get(type(order), order.id), MISSING_PART, planner)
    db.session.commit()
    plan_number(order, 2, [kees], second, planner, time(13), time(17))
    drain_queues(app)

    [text] = _messages(2)
    assert text.startswith(
        f"Beste Jan Jansen, uw tweede bezoek (2) is op {second:%d-%m-%Y} tussen 13:00 en 17:00 "
        f"met Kees Monteur; de installatiedatum {second:%d-%m-%Y}."
    ), text
    [first_text] = _messages(1)
    assert "De installatie van uw laadpaal" in first_text
