"""Quick replies: installation templates as one-tap buttons, sent the normal way."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.orders.mobile.conversation import order_thread
from app.orders.mobile.quick_replies import quick_replies_for
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, SandboxSend
from app.platform.models.enums import (
    MessageType,
    OrderStatus,
    TemplateCategory,
    TemplateChannelType,
)
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit

HTMX = {"HX-Request": "true"}
INSTALLATION = TemplateCategory.INSTALLATION_SCHEDULING


def _templates():
    late = factories.template(
        "Hoi {{customer_first_name}}, {{technician_name}} hier: ik ben rond {{visit_time}} bij u.",
        template_name="Iets later",
        template_category=INSTALLATION,
    )
    approved = factories.template(
        "Hoi {{customer_first_name}}, uw monteur {{technician_name}} komt vandaag "
        "({{visit_date}}).",
        template_name="Monteur komt vandaag",
        template_category=INSTALLATION,
        whatsapp_template_name="visit_today",
    )
    unfillable = factories.template(
        "Uw offerte van {{order_total}} staat klaar.",
        template_name="Offerte",
        template_category=INSTALLATION,
        variables=["order_total"],
    )
    other_category = factories.template(
        "Bedankt voor uw bericht.",
        template_name="Bedankt",
        template_category=TemplateCategory.FOLLOW_UP,
    )
    email_only = factories.template(
        "Beste {{customer_name}}, bijgaand de planning.",
        template_name="Planning per mail",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    db.session.commit()
    return late, approved, unfillable, other_category, email_only


def _customer_wrote(order, minutes_ago: int):
    """An incoming WhatsApp message on the order's thread (opens the 24-hour window)."""
    thread = order_thread(order)
    factories.message(
        thread,
        "Hoe laat komt de monteur?",
        message_type=MessageType.INCOMING,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.commit()
    return thread


def test_inside_the_window_the_fitting_templates_are_buttons_and_a_tap_sends(
    app, client, auth, make_user
):
    tech = make_user("technician")
    late, approved, unfillable, other, email_only = _templates()
    order = visit(tech)
    thread = _customer_wrote(order, minutes_ago=10)
    auth.login(tech.email)

    page = client.get("/m/").get_data(as_text=True)
    assert f'value="{late.id}"' in page and f'value="{approved.id}"' in page
    for absent in (unfillable, other, email_only):
        assert f'value="{absent.id}"' not in page
    assert f"Hoi Jan, {tech.name} hier: ik ben rond ochtend bij u." in page

    answer = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": auth.csrf_token("/m/"), "template_id": str(late.id)},
        headers=HTMX,
    )

    assert answer.status_code == 200
    assert "CC-2026-00042: message sent to the customer." in answer.get_data(as_text=True)
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert sent.thread_id == thread.id
    assert sent.channel.channel_name == "WhatsApp"
    assert sent.template_id == late.id
    assert sent.sender_user_id == tech.id
    assert sent.message_content == f"Hoi Jan, {tech.name} hier: ik ben rond ochtend bij u."
    drain_queues(app)
    [whatsapp] = db.session.scalars(
        sa.select(SandboxSend).where(SandboxSend.provider == "whatsapp")
    ).all()
    assert whatsapp.recipient == "+31612345678"


def test_past_the_window_only_approved_templates_are_offered(client, auth, make_user):
    tech = make_user("technician")
    late, approved, *_ = _templates()
    order = visit(tech)
    _customer_wrote(order, minutes_ago=25 * 60)
    auth.login(tech.email)
    page = client.get("/m/").get_data(as_text=True)
    assert f'value="{approved.id}"' in page
    assert f'value="{late.id}"' not in page
    today = order.scheduled_date.strftime("%d-%m-%Y")
    assert f"uw monteur {tech.name} komt vandaag ({today})" in page


def test_a_refused_send_says_why(client, auth, make_user):
    tech = make_user("technician")
    late, approved, unfillable, other, _ = _templates()
    order = visit(tech)
    _customer_wrote(order, minutes_ago=25 * 60)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    # The page no longer offered it, but the window closed while the page was open.
    closed = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": token, "template_id": str(late.id)},
        headers=HTMX,
    )
    assert closed.status_code == 422
    text = closed.get_data(as_text=True)
    assert "Not sent:" in text and "24-hour WhatsApp window closed" in text

    for template_id in (str(other.id), "not-a-uuid", ""):
        refused = client.post(
            f"/m/visits/{order.id}/reply",
            data={"csrf_token": token, "template_id": template_id},
            headers=HTMX,
        )
        assert refused.status_code == 422
        assert "That is not one of the quick replies." in refused.get_data(as_text=True)

    unfilled = client.post(
        f"/m/visits/{order.id}/reply", data={"csrf_token": token, "template_id": str(unfillable.id)}
    )
    assert unfilled.status_code == 303
    assert "Not sent:" in client.get("/m/").get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CommunicationMessage)
            .where(CommunicationMessage.message_type == MessageType.OUTGOING)
        )
        == 0
    )


def test_without_a_conversation_yet_the_buttons_match_the_channel_it_would_start_on(
    client, auth, make_user
):
    tech = make_user("technician")
    late, approved, unfillable, other, email_only = _templates()
    order = visit(tech, with_whatsapp=False)  # the customer would be mailed
    auth.login(tech.email)
    page = client.get("/m/").get_data(as_text=True)
    for offered in (late, approved, email_only):
        assert f'value="{offered.id}"' in page
    # The buttons were filled in without starting a conversation.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationThread)) == 0
    answer = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": auth.csrf_token("/m/"), "template_id": str(email_only.id)},
    )
    assert answer.status_code == 303
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert sent.channel.channel_name == "Outlook"
    assert sent.thread.order_id == order.id
    assert sent.message_content == "Beste Jan Jansen, bijgaand de planning."


def test_on_the_visit_day_a_planners_date_proposal_is_no_quick_reply(client, auth, make_user):
    """A planners' message "installeren op 23-11-2026 in de hele dag beschikbaar" sent on the
    23rd is no reply for a technician at work; the planners' mail stays theirs."""
    tech = make_user("technician")
    proposal = factories.template(
        "Beste {{customer_name}}, we kunnen uw laadpaal installeren op {{installation_date}}"
        " in de {{time_window}}.",
        template_name="Voorstel installatiedatum",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    on_the_day = factories.template(
        "Beste {{customer_name}}, {{technician_name}} komt vandaag ({{visit_date}}).",
        template_name="Monteur komt vandaag",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    db.session.commit()
    today = visit(tech, with_whatsapp=False, preferences={"time_window": "hele dag beschikbaar"})
    auth.login(tech.email)

    page = client.get("/m/").get_data(as_text=True)
    assert f'value="{on_the_day.id}"' in page
    assert f'value="{proposal.id}"' not in page
    assert "in de hele dag beschikbaar" not in page

    # Days before the visit it is what it was written for.
    before = today.scheduled_date - timedelta(days=3)
    offered = quick_replies_for(today, None, tech, before, [proposal])
    assert [reply.template_id for reply in offered] == [proposal.id]


def test_with_the_visit_under_way_no_reminder_of_it_and_no_eta(client, auth, make_user):
    """A technician at work on site is not offered "Herinnering: vandaag
    tussen 12:00 en 17:00" or "Ik ben onderweg, verwachte aankomst …"."""
    tech = make_user("technician")
    reminder = factories.template(
        "Beste {{customer_name}}, herinnering: {{visit_moment}} komt {{technician_name}}.",
        template_name="Herinnering bezoek",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    on_my_way = factories.template(
        "Beste {{customer_name}}, ik ben onderweg. Verwachte aankomst: {{eta}}.",
        template_name="Monteur onderweg",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    done_soon = factories.template(
        "Beste {{customer_name}}, de installatie is bijna klaar.",
        template_name="Monteur bijna klaar",
        template_category=INSTALLATION,
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    db.session.commit()
    order = visit(tech, with_whatsapp=False, preferences={"time_window": "middag 12:00-17:00"})
    templates = [reminder, on_my_way, done_soon]

    scheduled = quick_replies_for(order, None, tech, order.scheduled_date, templates)
    assert {reply.template_id for reply in scheduled} == {t.id for t in templates}

    order.status = OrderStatus.IN_PROGRESS
    db.session.commit()
    under_way = quick_replies_for(order, None, tech, order.scheduled_date, templates)
    assert [reply.template_id for reply in under_way] == [done_soon.id]
    auth.login(tech.email)
    page = client.get("/m/").get_data(as_text=True)
    assert f'value="{reminder.id}"' not in page and f'value="{done_soon.id}"' in page


def test_the_offices_plan_notices_are_no_quick_replies(client, auth, make_user):
    """Walkthrough: "Installatie-afspraak vervallen" was one tap away on the phone. The
    office's notices of a plan go out by themselves when a planner changes it."""
    tech = make_user("technician")
    notices = [
        factories.template(
            f"Beste {{{{customer_name}}}}, uw afspraak: {name}.",
            template_name=name,
            template_category=INSTALLATION,
        )
        for name in ("visit_planned", "visit_moved", "visit_cancelled")
    ]
    own = factories.template(
        "Hoi {{customer_name}}, ik sta voor de deur.",
        template_name="technician_at_the_door",
        template_category=INSTALLATION,
    )
    db.session.commit()
    order = visit(tech)
    _customer_wrote(order, minutes_ago=10)
    auth.login(tech.email)

    page = client.get("/m/").get_data(as_text=True)
    assert f'value="{own.id}"' in page
    for notice in notices:
        assert f'value="{notice.id}"' not in page

    # Nor sent when asked for by a page of before or by hand.
    answer = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": auth.csrf_token("/m/"), "template_id": str(notices[2].id)},
        headers=HTMX,
    )
    assert "That is not one of the quick replies." in answer.get_data(as_text=True)
    assert db.session.scalar(
        sa.select(sa.func.count(CommunicationMessage.id)).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    ) == 0
