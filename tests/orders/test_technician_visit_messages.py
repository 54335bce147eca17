"""What a technician's visit message is, past the first round.

From outside, as the review did it a second time: the technician's token on
``POST /api/communication/messages`` and their phone (``/m/``). A visit message
has no subject of the technician's own, goes to the visit customer's own
address only (not to the Reply-To or CC of the customer's last mail), carries the
mailbox's signature and not a personal one, and only ever in the conversation
with the visit's customer: not the partner's conversation about the same order.
A crew member (not the lead) may send it as the lead does.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.conversations.signatures.services import SIGNATURE_KEY
from app.orders.mobile.conversation import order_thread
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    Visit,
    VisitTechnician,
)
from app.platform.models.enums import (
    ChannelType,
    MessageType,
    TemplateCategory,
    ThreadStatus,
    TokenKind,
)
from tests.support import factories
from tests.support.mobile_support import visit

API = "/api/communication/messages"
MAILBOX_SIGNATURE = "ChargeCars klantenservice\n030 123 45 67"


def _sent(order) -> list[CommunicationMessage]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CommunicationMessage)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    ).all()


@pytest.fixture
def scene(make_user):
    tech = make_user("technician")
    tech.email_signature = "Piet Monteur — bel me op 06-99999999"
    order = visit(tech, with_whatsapp=False)
    thread = order_thread(order)
    outlook = thread.channel
    assert outlook.channel_type == ChannelType.EMAIL_OUTLOOK
    outlook.configuration = {**(outlook.configuration or {}), SIGNATURE_KEY: MAILBOX_SIGNATURE}
    on_the_way = factories.template(
        "Hoi {{customer_first_name}}, {{technician_name}} is onderweg naar u.",
        template_name="technician_on_the_way",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        subject_template="Uw monteur is onderweg",
    )
    _, token = issue_token(TokenKind.PERSONAL, "phone", user_id=tech.id)
    db.session.commit()
    return {
        "tech": tech,
        "order": order,
        "thread": thread,
        "outlook": outlook,
        "on_the_way": on_the_way,
        "bearer": {"Authorization": f"Bearer {token}"},
        "make_user": make_user,
    }


def _post(client, scene, thread=None, headers=None, **body):
    return client.post(
        API,
        json={
            "thread_id": str((thread or scene["thread"]).id),
            "template_id": str(scene["on_the_way"].id),
            "channel": "email",
            **body,
        },
        headers=headers or scene["bearer"],
    )


def test_a_technician_cannot_set_the_subject(client, scene):
    response = _post(client, scene, subject="Factuur: betaal vandaag nog")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "technician_free_text_not_allowed"
    assert _sent(scene["order"]) == []


def test_the_visit_message_goes_to_the_customer_only_under_the_mailbox_signature(client, scene):
    # The customer's last mail asked replies to go elsewhere and copied a neighbour.
    factories.message(
        scene["thread"],
        "Wanneer komt de monteur?",
        sender_external={"email": "jan@example.nl"},
        extra={"reply_to": ["oplichter@elders.nl"], "cc": ["buurman@elders.nl"]},
    )
    db.session.commit()

    response = _post(client, scene)

    assert response.status_code == 201, response.get_json()
    [sent] = _sent(scene["order"])
    assert sent.recipient_external["to"] == ["jan@example.nl"]
    assert sent.recipient_external["cc"] == [] and sent.recipient_external["bcc"] == []
    assert MAILBOX_SIGNATURE in sent.message_content
    assert "06-99999999" not in sent.message_content


def test_not_in_the_partners_conversation_about_the_same_order(client, scene):
    partner_contact = factories.contact(display_name="Essent planning", email="plan@essent.nl")
    partners = factories.thread(
        scene["outlook"],
        partner_contact,
        order_id=scene["order"].id,
        status=ThreadStatus.OPEN,
    )
    db.session.commit()

    response = _post(client, scene, thread=partners)

    assert response.status_code == 403
    assert _sent(scene["order"]) == []


def _on_the_crew(order, technician) -> None:
    plan = Visit(order_id=order.id, scheduled_date=order.scheduled_date)
    db.session.add(plan)
    db.session.flush()
    db.session.add_all(
        [
            VisitTechnician(
                visit_id=plan.id, technician_id=order.assigned_technician_id, is_lead=True
            ),
            VisitTechnician(visit_id=plan.id, technician_id=technician.id, is_lead=False),
        ]
    )
    db.session.commit()


def test_a_crew_member_says_on_my_way_as_the_lead_does(client, auth, scene):
    helper = scene["make_user"]("technician", email="helper@switchboard.test")
    _on_the_crew(scene["order"], helper)
    auth.login(helper.email)
    token = auth.csrf_token("/m/")

    answer = client.post(
        f"/m/visits/{scene['order'].id}/status",
        data={"tap": "on_the_way", "csrf_token": token},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    [sent] = _sent(scene["order"])
    assert sent.sender_user_id == helper.id
    assert sent.recipient_external["to"] == ["jan@example.nl"]


def _only_the_partner_can_be_reached(scene):
    """The customer cannot be reached; the partner's conversation about the order is open."""
    scene["thread"].status = ThreadStatus.CLOSED
    customer = scene["order"].end_customer
    customer.email, customer.phone = None, None
    partner_contact = factories.contact(
        display_name="Essent planning", first_name="Essent", email="plan@essent.nl"
    )
    partners = factories.thread(
        scene["outlook"], partner_contact, order_id=scene["order"].id, status=ThreadStatus.OPEN
    )
    db.session.commit()
    return partners


def test_on_my_way_never_falls_back_to_the_partners_conversation(client, auth, scene):
    partners = _only_the_partner_can_be_reached(scene)
    auth.login(scene["tech"].email)
    token = auth.csrf_token("/m/")

    answer = client.post(
        f"/m/visits/{scene['order'].id}/status",
        data={"tap": "on_the_way", "csrf_token": token},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200  # the tap is recorded; the customer was not told
    assert _sent(scene["order"]) == []
    db.session.expire_all()
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "VISIT_ON_THE_WAY"))
    assert audit.changes["customer_not_told"]
    assert audit.changes["customer_message_id"] is None
    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CommunicationMessage)
        .where(
            CommunicationMessage.thread_id == partners.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    )


def test_a_quick_reply_never_falls_back_to_the_partners_conversation(client, auth, scene):
    _only_the_partner_can_be_reached(scene)
    auth.login(scene["tech"].email)
    token = auth.csrf_token("/m/")

    answer = client.post(
        f"/m/visits/{scene['order'].id}/reply",
        data={"template_id": str(scene["on_the_way"].id), "csrf_token": token},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 422
    assert _sent(scene["order"]) == []
