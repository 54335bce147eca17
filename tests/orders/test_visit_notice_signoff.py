"""A planning message signs off once.

The visit notice is written by the planning code in ChargeCars' name and ends
with its template's own "Met vriendelijke groet, ChargeCars"; the planner who
saved the plan did not write it, so their personal signature (itself a sign-off)
is not added under it. The mailbox's footer still is.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationMessage, VisitNotice
from app.platform.models.enums import ChannelType
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order, plan_form, working_day

PLANNER_SIGNATURE = "Met vriendelijke groet,\nAnouk de Vries\nPlanning ChargeCars"
MAILBOX_FOOTER = "ChargeCars B.V.\nklantenservice@chargecars.nl"


def test_the_plan_notice_by_e_mail_has_one_sign_off_and_the_mailbox_footer(
    app, client, auth, make_user
):
    planner = make_user("team_lead", language="nl", email_signature=PLANNER_SIGNATURE)
    tech = make_user("technician", skills=["alfen"], language="nl")
    order = approved_order(with_whatsapp=False)
    mailbox = db.session.scalar(
        sa.select(CommunicationChannel).where(
            CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK
        )
    )
    mailbox.configuration = {**(mailbox.configuration or {}), "signature": MAILBOX_FOOTER}
    db.session.commit()
    auth.login(planner.email)
    page = client.get(f"/planning/orders/{order.order_number}")
    token = csrf_token_from(page.get_data(as_text=True))
    answer = client.post(
        f"/planning/orders/{order.order_number}",
        data={**plan_form([tech], working_day()), "csrf_token": token},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    drain_queues(app)

    notice = db.session.scalar(sa.select(VisitNotice))
    assert notice.sent_at is not None, notice.problem
    message = db.session.get(CommunicationMessage, notice.message_id)
    body = message.message_content
    assert body.count("Met vriendelijke groet") == 1, body
    assert "Anouk de Vries" not in body
    assert body.rstrip().endswith(MAILBOX_FOOTER), body
    html = (message.extra or {}).get("html") or ""
    assert "Anouk de Vries" not in html


def test_an_agents_own_reply_still_carries_their_signature(app, client, auth, make_user):
    """What the rule leaves alone: a reply a person types is signed by them."""
    from tests.support import factories

    agent = make_user("agent", language="nl", email_signature=PLANNER_SIGNATURE)
    mailbox = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    contact = factories.contact(display_name="Jan Jansen", email="jan@example.nl")
    thread = factories.thread(mailbox, contact, thread_subject="Vraag")
    factories.message(thread, "Hallo", sender_contact_id=contact.id)
    db.session.commit()
    auth.login(agent.email)
    page = client.get(f"/threads/{thread.id}")
    token = csrf_token_from(page.get_data(as_text=True))
    sent = client.post(
        f"/threads/{thread.id}/reply",
        data={"content": "Dank voor uw vraag.", "channel_id": str(mailbox.id), "csrf_token": token},
    )
    assert sent.status_code in (200, 302, 303), sent.get_data(as_text=True)[:500]
    message = db.session.scalar(
        sa.select(CommunicationMessage).where(CommunicationMessage.sender_user_id == agent.id)
    )
    assert "Anouk de Vries" in message.message_content
