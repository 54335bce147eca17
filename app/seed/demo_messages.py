"""The messages of one demo thread: who says what, on which channel, and when."""

from __future__ import annotations

import html
import string
from datetime import timedelta
from decimal import Decimal

from app.conversations.business_time.calendar import (
    Schedule,
    add_business_seconds,
    business_seconds_between,
    subtract_business_seconds,
)
from app.conversations.channels.whatsapp.out_of_hours import describe_opening
from app.orders.mobile.services import AMSTERDAM
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Order,
)
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus
from app.platform.system_texts import SystemText, label, to_json
from app.platform.system_texts import text as system_text
from app.platform.ui import local_money
from app.seed.context import Customer, DemoContext
from app.seed.demo_content import dutch_date, next_workday
from app.seed.demo_conversations import Scenario
from app.seed.demo_conversations_extra import STATUS_LABELS

ORDER_STATUS_BY_LABEL = {dutch: value for value, dutch in STATUS_LABELS.items()}

C = ChannelType
# Business minutes between two messages (the desk's opening hours: a working day is
# 540), by channel and (earlier, later) direction: e-mail is slow, WhatsApp quick,
# and customers take longer to answer than agents. So the history falls on
# working days, spread over the weeks before the demo's "now".
GAPS = {
    C.EMAIL_OUTLOOK: {("in", "out"): (15, 255), ("out", "in"): (60, 1080)},
    C.WHATSAPP_BUSINESS: {("in", "out"): (2, 50), ("out", "in"): (3, 480)},
    C.SMS: {("in", "out"): (5, 55), ("out", "in"): (2, 600)},
}
INTERNAL_GAP = (15, 540)
# Some WhatsApp customers write first in the evening (the out-of-hours reply answers).
EVENING_FIRST = 0.2
LENGTH_WEIGHTS = {1: 2, 2: 4, 3: 4, 4: 3, 5: 2, 6: 1}
PHOTOS = [
    {"filename": "laadpaal.jpg", "content_type": "image/jpeg", "size": 482113},
    {"filename": "meterkast.jpg", "content_type": "image/jpeg", "size": 391870},
]
SIGNATURE = "ChargeCars Klantenservice\n030 - 200 12 34 | klantenservice@chargecars.nl"
# How a customer writes, one way per conversation, so two customers asking the same
# never read the same: on WhatsApp a greeting before their first message and a
# sign-off after the others; in an e-mail the salutation above their letter.
WHATSAPP_VOICES = (
    ("", ""),
    ("Hoi! ", ""),
    ("Hallo! ", " Groetjes"),
    ("", " Alvast bedankt!"),
    ("Goedendag. ", " 🙂"),
    ("Hi! ", " Dank!"),
)
EMAIL_SALUTATIONS = (
    "",
    "Goedemorgen,\n\n",
    "Hallo,\n\n",
    "Beste klantenservice,\n\n",
    "Goedemiddag,\n\n",
)
# Messages that open with a greeting of their own (or are a bare yes) get no other.
GREETED = ("goedemorgen", "goedemiddag", "goedenavond", "hallo", "hoi", "beste", "dag ")


def thread_facts(ctx: DemoContext, customer: Customer, order: Order | None, partner) -> dict:
    """Everything a scenario text may mention, for one thread."""
    rng = ctx.rng
    contact, address = customer.contact, customer.address
    names = {user.id: user.name for user in ctx.users.values()}
    technician = names.get(order.assigned_technician_id) if order else None
    if order and order.scheduled_date and order.scheduled_date > ctx.today:
        future = order.scheduled_date
    else:
        future = next_workday(ctx.today + timedelta(days=rng.randint(2, 12)))
    friday = ctx.today + timedelta(days=3)
    while friday.weekday() != 4:
        friday += timedelta(days=1)
    if order and order.completed_at:
        past = order.completed_at.astimezone(AMSTERDAM).date()
    else:
        past = ctx.today - timedelta(days=rng.randint(3, 25))
    cable = ctx.articles["ACC-CABLE-M"].unit_price
    return {
        "first_name": contact.first_name,
        "customer": contact.display_name,
        "email": contact.email,
        "city": address.city,
        "street": f"{address.street} {address.house_number}",
        "order_number": order.order_number if order else "",
        "status": STATUS_LABELS[order.status.value] if order else "",
        "partner_order_id": (order.partner_order_id or "") if order else "",
        "partner": partner.master.name if partner else "",
        "past_date": dutch_date(past),
        "future_date": dutch_date(future),
        "alt_date": dutch_date(next_workday(future + timedelta(days=rng.randint(2, 5)))),
        "friday": dutch_date(friday),
        "time_window": rng.choice(["tussen 08:00 en 12:00", "tussen 12:00 en 17:00"]),
        "technician": technician or rng.choice(["Daan Mulder", "Ruben de Jong"]),
        "charger": ctx.order_charger.get(order.id, "laadpaal") if order else "laadpaal",
        "amount": local_money(
            order.total_amount * Decimal("1.21") if order else rng.randint(1100, 2400), locale="nl"
        ),
        "cable_price": local_money(cable, locale="nl"),
        "cable_credit": local_money(cable * 10, locale="nl"),
        "lb_price": local_money(ctx.articles["ACC-LB-KIT"].unit_price, locale="nl"),
        "compensation": local_money(rng.choice([50, 75, 100, 150]), locale="nl"),
        "reference": ctx.token(8, string.digits),
    }


class MessageBuilder:
    """Writes one thread's messages, oldest first, ending at a given moment."""

    def __init__(
        self,
        ctx: DemoContext,
        thread: CommunicationThread,
        scenario: Scenario,
        channel: CommunicationChannel,
        contact,
        facts: dict,
        topic: int,
        assignee,
    ):
        self.ctx, self.rng = ctx, ctx.rng
        self.thread, self.scenario, self.channel = thread, scenario, channel
        self.contact, self.facts, self.topic = contact, facts, topic
        agents = ctx.team_members("customer-service")
        self.responder = assignee or self.rng.choice(agents)
        self.colleague = self.rng.choice([u for u in ctx.users.values() if u is not self.responder])
        self.first_response_at = None
        self.last_incoming: CommunicationMessage | None = None
        self._pools: dict[str, list[str]] = {}
        self._voice: tuple[str, str] | None = None
        # How many of the topic's own replies and follow-ups have been used.
        self._used = {"out": 0, "in": 0}

    def build(
        self, status: ThreadStatus, anchor, internal: bool, waiting: bool, schedule: Schedule
    ) -> list[CommunicationMessage]:
        """The thread's messages; the last regular one is at ``anchor``.

        ``waiting``: the customer's message is the last (they wait for our answer).
        """
        directions = self._directions(status, internal, waiting)
        times = [anchor]
        for earlier, later in zip(directions[-2::-1], directions[:0:-1], strict=True):
            low, high = GAPS.get(self.channel.channel_type, {}).get((earlier, later), INTERNAL_GAP)
            gap = round(self.rng.uniform(low, high) * 60)
            times.insert(0, subtract_business_seconds(schedule, times[0], gap))
        if (
            len(times) > 1
            and self.channel.channel_type == C.WHATSAPP_BUSINESS
            and directions[0] == "in"
            and self.rng.random() < EVENING_FIRST
        ):
            # The evening before; the desk answers as soon as it opens, as quickly as it
            # would have in the day.
            gap = business_seconds_between(schedule, times[0], times[1])
            evening = times[0].astimezone(AMSTERDAM).date() - timedelta(days=1)
            times[0] = self.ctx.local_time(evening, 19, self.rng.randint(0, 180))
            times[1] = add_business_seconds(schedule, times[0], gap)
        messages = []
        for index, (direction, moment) in enumerate(zip(directions, times, strict=True)):
            last = index == len(directions) - 1
            text = self._text(
                direction, index, last and status in (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
            )
            messages.append(self._message(direction, moment, text, index, last, status))
        messages += self._extras(directions, times, internal)
        messages.sort(key=lambda message: message.created_at)
        return messages

    def _directions(self, status: ThreadStatus, internal: bool, waiting: bool) -> list[str]:
        if internal:
            return ["note"] * self.rng.choice([1, 2, 2, 3, 3, 4, 5])
        first = "out" if self.scenario.outbound_first else "in"
        other = "in" if first == "out" else "out"
        wanted_last = "in" if waiting else "out"
        lengths = [n for n in LENGTH_WEIGHTS if (first if n % 2 else other) == wanted_last]
        if status in (ThreadStatus.RESOLVED, ThreadStatus.CLOSED):
            # A solved case takes a few turns: question, answer, reaction, solution.
            lengths = [n for n in lengths if n >= 3]
        length = self.rng.choices(lengths, weights=[LENGTH_WEIGHTS[n] for n in lengths])[0]
        return [first if i % 2 == 0 else other for i in range(length)]

    def _draw(self, name: str, pool: tuple[str, ...]) -> str:
        """Texts from a pool without repeats within the thread (refilled if exhausted)."""
        if not self._pools.get(name):
            self._pools[name] = self.rng.sample(list(pool), len(pool))
        return self._pools[name].pop()

    def _text(self, direction: str, index: int, closing: bool) -> str:
        """The topic's opener, then its own replies/follow-ups in turn, then general ones."""
        scenario, topic = self.scenario, self.scenario.topics[self.topic]
        if index == 0:
            return topic.opener.format_map(self.facts)
        if direction == "note":
            direction = "out" if index % 2 else "in"
        own = topic.replies if direction == "out" else topic.followups
        used = self._used[direction]
        if used < len(own):
            text = own[used]
            if isinstance(text, tuple):  # the ways customers put it: one per thread
                text = self.rng.choice(text)
        elif closing and direction == "out":
            text = self._draw("closings", scenario.closings)
        elif direction == "out":
            text = self._draw("replies", scenario.replies)
        else:
            text = self._draw("followups", scenario.followups)
        self._used[direction] += 1
        return text.format_map(self.facts)

    def _message(self, direction, moment, text, index, last, status) -> CommunicationMessage:
        channel_type = self.channel.channel_type
        message = CommunicationMessage(
            thread_id=self.thread.id,
            channel_id=self.channel.id,
            created_at=moment,
            updated_at=moment,
            attachments=[],
            extra={},
            sender_external={},
            recipient_external={},
        )
        if direction == "note":
            user = self.colleague if index % 2 == 0 else self.responder
            message.message_type, message.sender_user_id = MessageType.INTERNAL_NOTE, user.id
            message.message_content, message.delivery_status = text, DeliveryStatus.DELIVERED
            return message
        if direction == "in":
            message.message_type = MessageType.INCOMING
            message.sender_contact_id = self.contact.id
            message.sender_external = self._address_of_contact()
            message.message_content = self._wrap_incoming(text, index)
            message.delivery_status = DeliveryStatus.DELIVERED
            unread = last and status == ThreadStatus.OPEN
            if unread:
                # What record_inbound keeps: the inbox shows it unread to every agent.
                self.thread.last_customer_message_at = moment
            message.read_at = (
                None
                if unread
                else min(moment + timedelta(minutes=self.rng.uniform(1, 20)), self.ctx.now)
            )
            if text.startswith("Hierbij de foto"):
                message.attachments = list(PHOTOS)
            self.last_incoming = message
        else:
            message.message_type = MessageType.OUTGOING
            message.sender_user_id = self.responder.id
            message.recipient_external = self._address_of_contact()
            template = index == 0 and channel_type == C.WHATSAPP_BUSINESS
            if template:
                message.template_id = self.ctx.templates["order_status_update"].id
            message.message_content = text if template else self._wrap_outgoing(text)
            self._delivery(message, moment, last)
            if self.first_response_at is None and self.last_incoming is not None:
                self.first_response_at = moment
        if channel_type == C.EMAIL_OUTLOOK:
            message.subject = ("RE: " if index else "") + self.thread.thread_subject
            message.message_html = email_html(message.message_content)
        message.external_message_id = self._external_id()
        return message

    def _extras(self, directions, times, internal: bool) -> list[CommunicationMessage]:
        """Auto-replies out of hours, internal notes and order-status lines in between."""
        extras = []
        channel_type = self.channel.channel_type
        local = times[0].astimezone(AMSTERDAM)
        out_of_hours = local.weekday() >= 5 or not 8 <= local.hour < 17
        # The out-of-hours auto-reply goes out at most once a day per contact, so not
        # every evening message in the demo gets one.
        if (
            channel_type == C.WHATSAPP_BUSINESS
            and directions[0] == "in"
            and out_of_hours
            and self.rng.random() < 0.5
        ):
            moment = times[0] + timedelta(seconds=4)
            template = self.ctx.templates["out_of_hours_auto_response"]
            extras.append(
                CommunicationMessage(
                    thread_id=self.thread.id,
                    channel_id=self.channel.id,
                    created_at=moment,
                    updated_at=moment,
                    message_type=MessageType.AUTO_RESPONSE,
                    message_content=_out_of_hours_text(template.message_template, moment),
                    template_id=template.id,
                    recipient_external=self._address_of_contact(),
                    sent_at=moment,
                    delivery_status=DeliveryStatus.DELIVERED,
                    delivered_at=moment,
                    external_message_id=self._external_id(),
                    attachments=[],
                    extra={},
                    sender_external={},
                )
            )
        if internal or len(times) < 2:
            return extras
        if self.rng.random() < 0.3:
            slot = self.rng.randint(1, len(times) - 1)
            moment = times[slot - 1] + (times[slot] - times[slot - 1]) * 0.6
            text = self._draw("notes", self.scenario.notes).format_map(self.facts)
            extras.append(self._internal(MessageType.INTERNAL_NOTE, moment, text, self.responder))
        if self.thread.order_id and self.facts["status"] and self.rng.random() < 0.15:
            moment = times[-2] + (times[-1] - times[-2]) * 0.3
            line = system_text(
                "order.status_changed",
                order=self.facts["order_number"],
                status=label("order_status", ORDER_STATUS_BY_LABEL[self.facts["status"]]),
            )
            extras.append(self._internal(MessageType.SYSTEM_NOTIFICATION, moment, line, None))
        return extras

    def _internal(self, message_type, moment, text, user) -> CommunicationMessage:
        """A note (``text`` as written) or a system line (``text`` from the catalogue).

        Without a channel, as :func:`app.conversations.core.post_note` writes a note: it is
        part of the conversation, not of the customer's channel.
        """
        line = text if isinstance(text, SystemText) else None
        return CommunicationMessage(
            thread_id=self.thread.id,
            channel_id=None,
            created_at=moment,
            updated_at=moment,
            message_type=message_type,
            message_content=line.english() if line else text,
            sender_user_id=user.id if user else None,
            delivery_status=DeliveryStatus.DELIVERED,
            attachments=[],
            extra={"system_text": to_json(line)} if line else {},
            sender_external={},
            recipient_external={},
        )

    def _delivery(self, message: CommunicationMessage, moment, last: bool) -> None:
        rng, now = self.rng, self.ctx.now
        message.sent_at = moment
        if self.channel.channel_type == C.WHATSAPP_BUSINESS:
            status = (
                rng.choice(
                    [
                        DeliveryStatus.READ,
                        DeliveryStatus.READ,
                        DeliveryStatus.DELIVERED,
                        DeliveryStatus.SENT,
                    ]
                )
                if last
                else DeliveryStatus.READ
            )
        elif self.channel.channel_type == C.EMAIL_OUTLOOK:
            status = DeliveryStatus.READ if rng.random() < 0.2 else DeliveryStatus.DELIVERED
        else:
            status = DeliveryStatus.DELIVERED
        message.delivery_status = status
        if status in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
            message.delivered_at = min(moment + timedelta(seconds=rng.randint(2, 25)), now)
        if status == DeliveryStatus.READ:
            message.read_at = min(moment + timedelta(minutes=rng.uniform(1, 90)), now)

    def _address_of_contact(self) -> dict:
        if self.channel.channel_type == C.EMAIL_OUTLOOK:
            return {"email": self.contact.email, "name": self.contact.display_name}
        return {
            "phone": self.contact.phone,
            "profile_name": self.contact.whatsapp_profile_name or self.contact.display_name,
        }

    def _wrap_incoming(self, text: str, index: int) -> str:
        channel_type = self.channel.channel_type
        if channel_type not in (C.EMAIL_OUTLOOK, C.WHATSAPP_BUSINESS):
            return text  # a text message: "JA" is how everyone confirms
        if self.contact.first_name is None:  # a partner's desk, not a person
            return (
                f"Beste ChargeCars,\n\n{text}\n\nMet vriendelijke groet,\n"
                f"Partnerdesk {self.contact.display_name}"
            )
        if self._voice is None:
            salutations = EMAIL_SALUTATIONS if channel_type == C.EMAIL_OUTLOOK else None
            self._voice = (
                (self.rng.choice(salutations), "")
                if salutations
                else self.rng.choice(WHATSAPP_VOICES)
            )
        greeting, sign_off = self._voice
        if channel_type == C.EMAIL_OUTLOOK:
            if text.lower().startswith(GREETED):
                greeting = ""
            return f"{greeting}{text}\n\nMet vriendelijke groet,\n{self.contact.display_name}"
        first = index == 0 or (index == 1 and self.scenario.outbound_first)
        if first and greeting and not text.lower().startswith(GREETED):
            return f"{greeting}{text}"
        return f"{text}{sign_off}" if len(text) > 3 else text

    def _wrap_outgoing(self, text: str) -> str:
        channel_type = self.channel.channel_type
        if channel_type == C.EMAIL_OUTLOOK:
            greeting = self.contact.first_name or f"collega's van {self.contact.display_name}"
            return (
                f"Beste {greeting},\n\n{text}\n\nMet vriendelijke groet,\n"
                f"{self.responder.name}\n{SIGNATURE}"
            )
        if channel_type == C.SMS:
            return text if text.startswith("ChargeCars") else f"ChargeCars: {text}"
        return f"{text}\n\nGroet, {self.responder.name.split()[0]} – ChargeCars"

    def _external_id(self) -> str | None:
        channel_type, token = self.channel.channel_type, self.ctx.token
        if channel_type == C.EMAIL_OUTLOOK:
            return self.ctx.external_id(lambda: f"<AAMk{token(46)}@eurprd04.prod.outlook.com>")
        if channel_type == C.WHATSAPP_BUSINESS:
            return self.ctx.external_id(lambda: "wamid.HBgL" + token(48))
        if channel_type == C.SMS:
            return self.ctx.external_id(lambda: "SM" + token(32, "0123456789abcdef"))
        return None


def email_html(text: str) -> str:
    """A plain HTML rendering of an e-mail body, one paragraph per blank line."""
    return "".join(
        "<p>" + html.escape(part).replace("\n", "<br>") + "</p>" for part in text.split("\n\n")
    )


def _out_of_hours_text(body: str, moment) -> str:
    """The out-of-hours template as the auto-response fills it in (Mon–Fri 08:00)."""
    opens = moment.astimezone(AMSTERDAM).replace(hour=8, minute=0, second=0, microsecond=0)
    if opens <= moment:
        opens += timedelta(days=1)
    while opens.weekday() >= 5:
        opens += timedelta(days=1)
    when = describe_opening(opens, moment, "Europe/Amsterdam")
    return body.replace("{{next_opening}}", when)
