"""A desk for the suggested-reply tests: channels, a technician, templates, customers with a
planned visit, and earlier conversations that ended (well or not) to harvest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from app.conversations.reply_suggestions.harvest import harvest_conversation
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationTemplate,
    Contact,
    ContactIdentity,
    CsatResponse,
    Order,
    User,
    Visit,
)
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    OrderStatus,
    TemplateCategory,
    TemplateChannelType,
    ThreadStatus,
)
from app.platform.transactions import commit
from tests.support import factories

PLANNING_TEXT = (
    "Beste {{customer_name}}, uw laadpaal wordt {{visit_moment}} geïnstalleerd door "
    "{{technician_name}}. Hij belt u als hij onderweg is."
)
PLANNING_QUESTIONS = (
    "Wanneer komt de monteur mijn laadpaal installeren?",
    "Op welke datum is de installatie van de laadpaal gepland?",
    "Weet u al wanneer de installatie is? Ik moet vrij nemen.",
)


@dataclass
class Desk:
    whatsapp: object
    email: object
    technician: User
    agent: User
    templates: dict[str, CommunicationTemplate] = field(default_factory=dict)


def desk(make_user) -> Desk:
    """Two channels, a technician, an agent and the templates a desk answers with."""
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    email = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Klantenservice")
    technician = make_user("technician", email="ruben@switchboard.test")
    technician.name, technician.phone = "Ruben Visser", "+31687654321"
    agent = make_user("agent", email="anouk@switchboard.test")
    agent.name = "Anouk de Boer"
    found = Desk(whatsapp, email, technician, agent)
    found.templates = {
        "planning": factories.template(
            PLANNING_TEXT,
            template_name="installation_date_answer",
            display_name="Planning installatie",
            description="Noemt de geplande installatiedatum en de monteur",
            template_category=TemplateCategory.INSTALLATION_SCHEDULING,
            channel_type=TemplateChannelType.ANY,
        ),
        "invoice": factories.template(
            "Beste {{customer_name}}, we hebben uw factuur voor order {{order_id}} "
            "gecontroleerd en gecorrigeerd. U ontvangt hem vandaag opnieuw per e-mail.",
            template_name="invoice_corrected",
            display_name="Factuur gecorrigeerd",
            description="De factuur klopte niet en is opnieuw verstuurd",
            template_category=TemplateCategory.CUSTOMER_SERVICE,
            channel_type=TemplateChannelType.ANY,
        ),
        "fault": factories.template(
            "Beste {{customer_name}}, wilt u de laadpaal herstarten met de hoofdschakelaar "
            "in de meterkast? Laadt hij daarna nog niet, dan plannen we een monteur in.",
            template_name="charger_restart",
            display_name="Storing: herstarten",
            description="Laadpaal laadt niet of geeft een foutmelding",
            template_category=TemplateCategory.TECHNICAL_SUPPORT,
            channel_type=TemplateChannelType.ANY,
        ),
        "status": factories.template(
            "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}.",
            template_name="order_status_update",
            display_name="Update orderstatus",
            template_category=TemplateCategory.CUSTOMER_SERVICE,
            channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
            whatsapp_template_name="order_status_update",
        ),
        "note": factories.template(
            "Let op: {{thread_subject}} is over de SLA.",
            template_name="internal_escalation",
            template_category=TemplateCategory.INTERNAL_NOTIFICATION,
            channel_type=TemplateChannelType.ANY,
        ),
        "eta": factories.template(
            "Hoi {{customer_name}}, ik ben onderweg. Groet, {{technician_name}}",
            template_name="technician_eta",
            template_category=TemplateCategory.INSTALLATION_SCHEDULING,
            channel_type=TemplateChannelType.ANY,
        ),
    }
    db.session.commit()
    return found


def customer(
    found: Desk,
    name: str = "Jan Jansen",
    phone: str = "+31612345678",
    number: str = "CC-2026-00042",
    day: date | None = None,
    window: tuple[str, str] | None = ("08:00", "12:00"),
    status: OrderStatus = OrderStatus.SCHEDULED,
) -> tuple[Contact, Order]:
    """A customer with an order whose visit is planned on ``day`` (in ten days)."""
    first = name.split()[0]
    contact = factories.contact(
        display_name=name,
        first_name=first,
        last_name=name.split(" ", 1)[1],
        phone=phone,
        email=f"{first.lower()}@example.nl",
    )
    # Known by their number, so their next WhatsApp message joins their open conversation.
    db.session.add(ContactIdentity(contact_id=contact.id, kind="phone", address=phone))
    day = day or (utcnow() + timedelta(days=10)).date()
    order = Order(
        order_number=number,
        status=status,
        end_customer_contact_id=contact.id,
        scheduled_date=day,
        assigned_technician_id=found.technician.id,
        total_amount=1849,
    )
    db.session.add(order)
    db.session.flush()
    if window:
        start, end = (time.fromisoformat(value) for value in window)
        db.session.add(
            Visit(order_id=order.id, scheduled_date=day, window_start=start, window_end=end)
        )
    db.session.commit()
    return contact, order


def asking(
    found: Desk,
    contact: Contact,
    order: Order | None,
    text: str,
    *,
    channel=None,
    minutes_ago: int = 1,
):
    """An open conversation in which ``contact`` just asked ``text``; (thread, message)."""
    channel = channel or found.whatsapp
    thread = factories.thread(
        channel, contact, order_id=order.id if order else None, minutes_ago=minutes_ago
    )
    message = factories.message(
        thread,
        text,
        sender_contact_id=contact.id,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    thread.last_customer_message_at = message.created_at
    db.session.commit()
    return thread, message


def past_conversation(
    found: Desk,
    question: str,
    *,
    reply: str | None = None,
    template: CommunicationTemplate | None = None,
    rating: int | None = None,
    days_ago: int = 20,
    number: str,
    phone: str,
    name: str = "Piet de Vries",
    harvest: bool = True,
):
    """A resolved conversation: the customer asked, an agent answered (text or template).

    ``reply`` may name the visit's day as ``{visit:%d-%m-%Y}``.
    """
    contact, order = customer(
        found,
        name=name,
        phone=phone,
        number=number,
        day=(utcnow() - timedelta(days=days_ago - 5)).date(),
    )
    when = utcnow() - timedelta(days=days_ago)
    thread = factories.thread(
        found.whatsapp,
        contact,
        order_id=order.id,
        status=ThreadStatus.RESOLVED,
        resolved_at=when + timedelta(hours=2),
    )
    factories.message(thread, question, sender_contact_id=contact.id, created_at=when)
    body = reply.format(visit=order.scheduled_date) if reply else None
    if template is not None:
        body = template.message_template.replace("{{customer_name}}", contact.display_name)
    answer = factories.message(
        thread,
        body,
        message_type=MessageType.OUTGOING,
        sender_user_id=found.agent.id,
        delivery_status=DeliveryStatus.DELIVERED,
        template_id=template.id if template else None,
        created_at=when + timedelta(minutes=30),
    )
    if rating is not None:
        db.session.add(
            CsatResponse(
                thread_id=thread.id,
                resolved_at=when,
                contact_id=contact.id,
                state="asked",
                rating=rating,
                answered_at=when,
            )
        )
    commit()
    if harvest:
        harvest_conversation(str(thread.id))
    return thread, answer
