"""A technician sends customers only the visit messages made for them.

From outside, as the review did it: the technician's browser session posting the
reply form of ``/threads/<id>``, and ``POST /api/communication/messages`` with
their personal token. Free text (e-mail or WhatsApp), an e-mail with To/CC of
their choosing, another template, or a visit message about someone else's visit
is refused with 403 and nothing is written; the "on my way" visit message to
their own customer still goes.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.conversations.workspace.services import reachable_channels
from app.orders.mobile.conversation import order_thread
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import ChannelType, MessageType, TemplateCategory, TokenKind
from tests.support import factories
from tests.support.mobile_support import visit

API = "/api/communication/messages"


def _outgoing(thread_id) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count(CommunicationMessage.id))
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.id == thread_id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    )


def _email_channel(thread):
    return next(
        c for c in reachable_channels(thread) if c.channel_type == ChannelType.EMAIL_OUTLOOK
    )


@pytest.fixture
def scene(make_user):
    tech = make_user("technician")
    order = visit(tech)
    thread = order_thread(order)
    on_the_way = factories.template(
        "Hoi {{customer_first_name}}, {{technician_name}} is onderweg naar u.",
        template_name="technician_on_the_way",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    invoice = factories.template(
        "Uw factuur staat klaar.",
        template_name="invoice_ready",
        template_category=TemplateCategory.CUSTOMER_SERVICE,
    )
    _, token = issue_token(TokenKind.PERSONAL, "phone", user_id=tech.id)
    db.session.commit()
    return {
        "tech": tech,
        "thread": thread,
        "on_the_way": on_the_way,
        "invoice": invoice,
        "bearer": {"Authorization": f"Bearer {token}"},
        "make_user": make_user,
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"content": "Hoi, ik kom wat later. Bel me op 06-1234"}, id="free-text"),
        pytest.param({"content": "Hoi!", "channel": "whatsapp"}, id="whatsapp-text"),
        pytest.param({"template": "invoice"}, id="another-template"),
        pytest.param(
            {"template": "on_the_way", "content": "Eigen tekst erbij"}, id="template-edited"
        ),
        pytest.param(
            {"template": "on_the_way", "variables": {"technician_name": "Bel 0900-OPLICHTER"}},
            id="own-variables",
        ),
    ],
)
def test_the_api_refuses_a_technicians_own_words(client, scene, body):
    body = dict(body)
    if "template" in body:
        body["template_id"] = str(scene[body.pop("template")].id)
    response = client.post(
        API, json={"thread_id": str(scene["thread"].id), **body}, headers=scene["bearer"]
    )
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "technician_free_text_not_allowed"
    assert _outgoing(scene["thread"].id) == 0


def test_the_api_sends_the_on_the_way_message_to_their_own_customer(client, scene):
    body = {
        "thread_id": str(scene["thread"].id),
        "template_id": str(scene["on_the_way"].id),
        "channel": "email",  # WhatsApp's window is closed: the customer never wrote there
    }
    response = client.post(API, json=body, headers=scene["bearer"])
    assert response.status_code == 201, response.get_json()
    assert _outgoing(scene["thread"].id) == 1


def test_a_visit_message_about_another_technicians_visit_is_refused(client, scene):
    colleague = scene["make_user"]("technician")
    other = order_thread(visit(colleague, number="CC-2026-00043", with_whatsapp=False))
    db.session.commit()
    body = {"thread_id": str(other.id), "template_id": str(scene["on_the_way"].id)}
    response = client.post(API, json=body, headers=scene["bearer"])
    assert response.status_code in (403, 404)
    assert _outgoing(other.id) == 0


def test_the_reply_form_refuses_free_text_and_own_addressees(client, auth, scene):
    auth.login(scene["tech"].email)
    token = auth.csrf_token("/m/")
    thread = scene["thread"]
    for form in (
        {"content": "Kom ik morgen, groet"},
        {"content": "Zie bijlage", "to": "iemand@elders.nl", "cc": "baas@elders.nl"},
    ):
        response = client.post(f"/threads/{thread.id}/reply", data={"csrf_token": token, **form})
        assert response.status_code == 403
    assert _outgoing(thread.id) == 0


def test_an_agent_still_writes_freely(client, auth, scene):
    agent = scene["make_user"]("agent")
    auth.login(agent.email)
    token = auth.csrf_token("/inbox")
    response = client.post(
        f"/threads/{scene['thread'].id}/reply",
        data={
            "csrf_token": token,
            "content": "Goedemiddag, we bellen u morgen.",
            "channel_id": str(_email_channel(scene["thread"]).id),
        },
    )
    assert response.status_code in (200, 302, 303)
    assert _outgoing(scene["thread"].id) == 1
