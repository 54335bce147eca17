"""Status milestones tell the customer; urgent orders alert Teams."""

from __future__ import annotations

import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Order, SandboxSend
from app.platform.models.enums import ChannelType, MessageType, OrderStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.jobs import drain_queues


def _order(contact, **fields) -> Order:
    order = Order(
        order_number="CC-2026-00042",
        status=OrderStatus.APPROVED,
        end_customer_contact_id=contact.id,
        **fields,
    )
    db.session.add(order)
    db.session.commit()
    return order


def _sends(provider: str) -> list[SandboxSend]:
    return db.session.scalars(sa.select(SandboxSend).where(SandboxSend.provider == provider)).all()


def test_scheduled_goes_to_whatsapp_with_the_status_template(app):
    factories.channel(ChannelType.WHATSAPP_BUSINESS)
    factories.template(
        "Uw bestelling {{order_id}} heeft nu de status: {{order_status}}.",
        template_name="Orderstatus",
        whatsapp_template_name="order_status_update",
    )
    contact = factories.contact(phone="+31612345678", email="klant@example.com")
    order = _order(contact)
    change_entity_status(order, OrderStatus.SCHEDULED, "ingepland")
    commit()
    [notice] = db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION
        )
    ).all()
    assert notice.thread.order_id == order.id
    assert notice.extra["automation"] == "order_milestone"
    assert "CC-2026-00042" in notice.message_content
    drain_queues(app)
    [sent] = _sends("whatsapp")
    assert sent.request_body["template"] == "order_status_update"
    assert sent.request_body["template_parameters"] == ["CC-2026-00042", "Ingepland"]
    assert _sends("sendgrid") == []


def test_without_whatsapp_the_milestone_is_mailed_once(app):
    contact = factories.contact(phone=None, email="klant@example.com")
    order = _order(contact)
    change_entity_status(order, OrderStatus.SCHEDULED)
    commit()
    drain_queues(app)
    [mail] = _sends("sendgrid")
    assert mail.recipient == "klant@example.com"
    data = mail.request_body["personalizations"][0]["dynamic_template_data"]
    assert (data["order_id"], data["status"]) == ("CC-2026-00042", "scheduled")


def test_a_rolled_back_change_tells_nobody(app):
    contact = factories.contact(phone=None, email="klant@example.com")
    order = _order(contact)
    change_entity_status(order, OrderStatus.SCHEDULED)
    db.session.rollback()
    drain_queues(app)
    assert _sends("sendgrid") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 0


def test_urgent_order_put_on_hold_alerts_teams(app):
    contact = factories.contact(phone=None, email=None)
    order = _order(contact, installation_preferences={"priority": "urgent"})
    change_entity_status(order, OrderStatus.SCHEDULED)
    commit()
    drain_queues(app)
    assert _sends("teams") == []
    change_entity_status(order, OrderStatus.ON_HOLD, "netbeheerder moet eerst komen")
    commit()
    drain_queues(app)
    cards = _sends("teams")
    assert len(cards) == 2  # operations and management
    assert "CC-2026-00042" in str(cards[0].request_body)
