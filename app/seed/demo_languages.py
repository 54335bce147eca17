"""The demo's English: templates in English, and one customer who writes English.

A customer's language is told from what they write, and the composer
then offers templates in that language first, with a hint above the reply box.
The demo shows both in ``make run``: a household whose installation is planned
asked in English, got a Dutch answer, and asks again (minutes ago, so
WhatsApp's 24-hour window is open and every template may be sent).

The templates are built with the catalogue, before anything draws from the
demo's random generator; they draw nothing, so every later builder's draws
(and so the demo's story) stay as they were. The conversation is built last.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.conversations.business_time.calendar import (
    business_seconds_between,
    calendar_for,
    schedule_of,
)
from app.conversations.business_time.policies import active_policies
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Order,
)
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    OrderStatus,
    Priority,
    TemplateBusinessEntity,
    TemplateCategory,
    TemplateChannelType,
    ThreadStatus,
    ThreadType,
)
from app.platform.system_texts import english, text, thread_type_label, to_json
from app.seed.context import Customer, DemoContext
from app.seed.demo_catalogue import placeholders
from app.seed.demo_content import dutch_date
from app.seed.demo_sla import DemoSla, start_running_cycle

_EMAIL, _WHATSAPP, _ANY = (
    TemplateChannelType.EMAIL_OUTLOOK,
    TemplateChannelType.WHATSAPP_BUSINESS,
    TemplateChannelType.ANY,
)

# name, category, channel, subject, body, display name, description, uses. None is
# an approved WhatsApp template: Meta approves each language apart, and ours are
# approved in Dutch; within the 24-hour window these go out as plain text.
ENGLISH_TEMPLATES = [
    (
        "installation_date_en",
        TemplateCategory.INSTALLATION_SCHEDULING,
        _ANY,
        "Installation of your charging station ({{order_id}})",
        "Dear {{customer_name}},\n\nThe installation of your charging station (order "
        "{{order_id}}) is planned {{visit_moment}}. Please make "
        "sure someone is at home and the meter cupboard is easy to reach. Does this date not "
        "suit you? Just reply to this message.",
        "Installation date",
        "The planned installation date and time window, in English.",
        7,
    ),
    (
        "order_status_update_en",
        TemplateCategory.CUSTOMER_SERVICE,
        _WHATSAPP,
        None,
        "The status of your order {{order_id}} has changed to: {{order_status}}. "
        "Any questions? Just reply to this message. Regards, ChargeCars",
        "Order status update",
        'The Dutch "Update orderstatus" in English, for customers who write English.',
        18,
    ),
    (
        "technical_support_follow_up_en",
        TemplateCategory.TECHNICAL_SUPPORT,
        _ANY,
        "Follow-up on your charger fault – {{order_id}}",
        "Dear {{customer_name}},\n\nWe would like to know whether your {{charger_model}} "
        "charges properly again after our fix of {{fix_date}}. Is everything working? "
        "Then we will close the report.",
        "Fault follow-up",
        "Asks in English whether the charger works again after a repair or remote fix.",
        9,
    ),
    (
        "complaint_response_en",
        TemplateCategory.COMPLAINT_RESPONSE,
        _EMAIL,
        "Your complaint about order {{order_id}}",
        "Dear {{customer_name}},\n\nThank you for your message, and our apologies that things "
        "did not go the way you may expect from us. We take your complaint seriously: "
        "{{team_contact}} will contact you by {{response_date}} to discuss a solution.",
        "Complaint response",
        "Apologises in English and says who will call back, and by when.",
        6,
    ),
    (
        "quote_follow_up_en",
        TemplateCategory.SALES_INQUIRY,
        _EMAIL,
        "Your quote for a charging station – {{quote_number}}",
        "Dear {{customer_name}},\n\nWe recently sent you a quote for a {{charger_model}}. "
        "Do you have any questions about the installation or about load balancing? "
        "We are happy to help.",
        "Quote follow-up",
        "A few days after a quote, in English: offers help with questions.",
        5,
    ),
    (
        "order_completion_en",
        TemplateCategory.FOLLOW_UP,
        _WHATSAPP,
        None,
        "Dear {{customer_name}}, your order {{order_id}} was completed today! Thank you for "
        "choosing ChargeCars. You will receive the handover report by e-mail.",
        "Installation completed",
        "Thanks the customer in English once the installation is done.",
        11,
    ),
]


# The out-of-hours answer in English: approved by Meta under the Dutch one's WhatsApp
# name (a translation), so an English customer gets it
# (app/conversations/channels/whatsapp/out_of_hours.py).
ENGLISH_OUT_OF_HOURS = (
    "out_of_hours_auto_response_en",
    "out_of_hours",
    "Thank you for your message! Our customer service is closed now and open again "
    "{{next_opening}}. We will reply as soon as we can.",
    # Named and described for the Dutch desk that manages it.
    "Automatisch antwoord buiten kantooruren (Engels)",
    "Gaat buiten kantooruren automatisch uit naar klanten die Engels schrijven.",
)


def build_english_templates(ctx: DemoContext) -> None:
    """English versions of the main customer templates (no random draws, see above)."""
    name, whatsapp_name, body, display, description = ENGLISH_OUT_OF_HOURS
    ctx.templates[name] = CommunicationTemplate(
        id=uuid.uuid4(),
        template_name=name,
        display_name=display,
        description=description,
        template_category=TemplateCategory.AUTO_RESPONSE,
        channel_type=_WHATSAPP,
        whatsapp_template_name=whatsapp_name,
        message_template=body,
        variables=placeholders(None, body),
        business_entity=TemplateBusinessEntity.CHARGECARS,
        language="en",
    )
    db.session.add(ctx.templates[name])
    for name, category, channel, subject, body, display, description, uses in ENGLISH_TEMPLATES:
        ctx.templates[name] = CommunicationTemplate(
            id=uuid.uuid4(),
            template_name=name,
            display_name=display,
            description=description,
            template_category=category,
            channel_type=channel,
            subject_template=subject,
            message_template=body,
            variables=placeholders(subject, body),
            business_entity=TemplateBusinessEntity.CHARGECARS,
            language="en",
            usage_count=uses,
        )
    db.session.add_all(ctx.templates[entry[0]] for entry in ENGLISH_TEMPLATES)
    db.session.flush()


def build_english_conversation(ctx: DemoContext, contacts_in_threads: set) -> int:
    """The English-writing customer's WhatsApp conversation; how many messages it has.

    The household is one with an installation planned and no conversation yet,
    so nothing else in the demo shows them writing Dutch.
    """
    order, customer = _planned_household(ctx, contacts_in_threads)
    contact, agent = customer.contact, ctx.user("agent")
    channel = ctx.channels[ChannelType.WHATSAPP_BUSINESS]
    asked_at = ctx.now - timedelta(hours=27)
    answered_at = asked_at + timedelta(minutes=24)
    asked_again_at = ctx.now - timedelta(minutes=12)
    team = ctx.teams["customer-service"]
    reason = text(
        "routing.auto_lowest_load",
        thread_type=thread_type_label(ThreadType.INSTALLATION_COORDINATION.value),
        team=team.name,
    )
    thread = CommunicationThread(
        id=uuid.uuid4(),
        thread_subject="When will the installer come?",
        thread_type=ThreadType.INSTALLATION_COORDINATION,
        priority=Priority.NORMAL,
        status=ThreadStatus.OPEN,
        channel_id=channel.id,
        contact_id=contact.id,
        order_id=order.id,
        customer_organization_id=customer.organization.id,
        assigned_team_id=team.id,
        assigned_to_user_id=agent.id,
        assignment_reason=english(reason),
        assignment_reason_text=to_json(reason),
        sla_stage=0,
        tags=["planning"],
        external_references={"whatsapp_chat_id": contact.phone.lstrip("+")},
        sla_paused_seconds=0,
        lock_version=1,
        created_at=asked_at,
        updated_at=asked_again_at,
        last_message_at=asked_again_at,
        # Unread: what record_inbound keeps for a message nobody opened yet.
        last_customer_message_at=asked_again_at,
        first_response_at=answered_at,
    )
    address = {"phone": contact.phone, "profile_name": contact.first_name}
    when = dutch_date(order.scheduled_date)
    messages = [
        _incoming(
            ctx,
            thread,
            asked_at,
            f"Hi! I ordered a charging station from you ({order.order_number}). "
            "When will the installer come?",
            address,
        ),
        _outgoing(
            ctx,
            thread,
            answered_at,
            f"Beste {contact.first_name}, de installatie van uw laadpaal staat gepland op "
            f"{when}. De monteur belt u als hij onderweg is.\n\n"
            f"Groet, {agent.name.split()[0]} – ChargeCars",
            address,
            agent,
        ),
        _incoming(
            ctx,
            thread,
            asked_again_at,
            "Sorry, I don't speak Dutch. Could you tell me the date in English, "
            "and do I need to be at home for the installation?",
            address,
        ),
    ]
    thread.last_message_preview = messages[-1].message_content[:280]
    contact.detected_language = "en"
    sla = DemoSla(schedule_of(calendar_for(None)), active_policies())
    thread.first_response_seconds = max(
        business_seconds_between(sla.schedule, asked_at, answered_at), 0
    )
    thread.channel = channel
    db.session.add(thread)
    db.session.flush()
    db.session.add_all(messages)
    # The customer asked again: a new cycle runs from their second question.
    start_running_cycle(sla, ctx.now, thread, channel, asked_again_at)
    db.session.flush()
    return len(messages)


def _planned_household(ctx: DemoContext, taken: set) -> tuple[Order, Customer]:
    planned = [
        order
        for order in ctx.orders
        if order.status == OrderStatus.SCHEDULED
        and order.scheduled_date is not None
        and order.scheduled_date >= ctx.today
    ]
    quiet = [order for order in planned if ctx.order_customer[order.id].contact.id not in taken]
    order = (quiet or planned)[0]
    return order, ctx.order_customer[order.id]


def _incoming(ctx, thread, at, body: str, address: dict) -> CommunicationMessage:
    return CommunicationMessage(
        thread_id=thread.id,
        channel_id=thread.channel_id,
        message_type=MessageType.INCOMING,
        sender_contact_id=thread.contact_id,
        sender_external=address,
        recipient_external={},
        message_content=body,
        language="en",
        delivery_status=DeliveryStatus.DELIVERED,
        delivered_at=at,
        external_message_id=_whatsapp_id(ctx),
        attachments=[],
        extra={"whatsapp_type": "text"},
        created_at=at,
        updated_at=at,
    )


def _outgoing(ctx, thread, at, body: str, address: dict, agent) -> CommunicationMessage:
    return CommunicationMessage(
        thread_id=thread.id,
        channel_id=thread.channel_id,
        message_type=MessageType.OUTGOING,
        sender_user_id=agent.id,
        sender_external={},
        recipient_external=address,
        message_content=body,
        delivery_status=DeliveryStatus.READ,
        sent_at=at,
        delivered_at=at + timedelta(seconds=4),
        read_at=at + timedelta(minutes=3),
        external_message_id=_whatsapp_id(ctx),
        attachments=[],
        extra={},
        created_at=at,
        updated_at=at,
    )


def _whatsapp_id(ctx: DemoContext) -> str:
    return ctx.external_id(lambda: "wamid.HBgL" + ctx.token(48))
