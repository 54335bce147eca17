"""Demo conversations: ~300 threads over e-mail, WhatsApp, SMS and internal channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.conversations.business_time.calendar import (
    Schedule,
    business_seconds_between,
    calendar_for,
    schedule_of,
)
from app.conversations.business_time.policies import active_policies
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Order
from app.platform.models.enums import (
    ChannelType,
    MessageType,
    Priority,
    Role,
    ThreadStatus,
    ThreadType,
)
from app.platform.system_texts import SystemText, english, text, to_json
from app.seed.context import DemoContext
from app.seed.demo_conversations import Scenario
from app.seed.demo_conversations_extra import SCENARIOS
from app.seed.demo_messages import MessageBuilder, thread_facts
from app.seed.demo_sla import (
    DemoSla,
    business_ago,
    note_late_first_answer,
    record_answered_cycle,
    start_running_cycle,
    waiting_since,
)

C, T = ChannelType, ThreadStatus
# How many threads of which kind, per channel: ~45% e-mail, ~35% WhatsApp, ~5% SMS.
PLAN = [
    (C.EMAIL_OUTLOOK, "storing", 22),
    (C.EMAIL_OUTLOOK, "planning", 20),
    (C.EMAIL_OUTLOOK, "offerte", 25),
    (C.EMAIL_OUTLOOK, "factuur", 28),
    (C.EMAIL_OUTLOOK, "klacht", 14),
    (C.EMAIL_OUTLOOK, "partner", 26),
    (C.WHATSAPP_BUSINESS, "storing", 25),
    (C.WHATSAPP_BUSINESS, "planning", 22),
    (C.WHATSAPP_BUSINESS, "offerte", 12),
    (C.WHATSAPP_BUSINESS, "factuur", 14),
    (C.WHATSAPP_BUSINESS, "klacht", 8),
    (C.WHATSAPP_BUSINESS, "status", 24),
    (C.SMS, "sms", 15),
    (C.INTERNAL_TASK, "taak", 25),
    (C.INTERNAL_COMMENT, "overleg", 20),
]
# A month of history: most conversations of the past weeks are resolved.
CUSTOMER_STATUSES = {
    T.OPEN: 10,
    T.IN_PROGRESS: 15,
    T.WAITING_CUSTOMER: 11,
    T.WAITING_INTERNAL: 5,
    T.ESCALATED: 3,
    T.RESOLVED: 32,
    T.CLOSED: 24,
}
SMS_STATUSES = {T.OPEN: 10, T.WAITING_CUSTOMER: 30, T.RESOLVED: 40, T.CLOSED: 20}
INTERNAL_STATUSES = {
    T.OPEN: 30,
    T.IN_PROGRESS: 25,
    T.WAITING_INTERNAL: 15,
    T.RESOLVED: 20,
    T.CLOSED: 10,
}
# Statuses in which the customer may be waiting for us (the last message theirs);
# how many really are is the SLA story's to say (app.seed.demo_sla.WAITING).
AWAITING_US = {T.OPEN, T.IN_PROGRESS, T.ESCALATED}
# Business hours since a conversation last moved, by status (a working day is 9 h, a
# week 45), spread over the month the analytics page shows by default.
LAST_MOVED_HOURS = {
    T.IN_PROGRESS: (0.2, 150),
    T.ESCALATED: (0.2, 60),
    T.WAITING_INTERNAL: (0.5, 150),
    T.WAITING_CUSTOMER: (1, 170),
    T.RESOLVED: (1, 190),
    T.CLOSED: (9, 200),
}
PRIORITIES = {
    Priority.LOW: 15,
    Priority.NORMAL: 55,
    Priority.HIGH: 20,
    Priority.URGENT: 8,
    Priority.CRITICAL: 2,
}
COMPLAINT_PRIORITIES = {
    Priority.NORMAL: 30,
    Priority.HIGH: 45,
    Priority.URGENT: 20,
    Priority.CRITICAL: 5,
}
INTERNAL_CHANNELS = {C.INTERNAL_TASK, C.INTERNAL_COMMENT}
CLOSED = (T.RESOLVED, T.CLOSED)
# Set on some threads only (by the SLA story below), left empty on the others.
SLA_COLUMNS = (
    "last_customer_message_at",
    "response_due_at",
    "resolved_at",
    "sla_paused_at",
    "sla_started_at",
    "sla_target_seconds",
    "sla_next_check_at",
    "first_response_seconds",
    "resolution_seconds",
)


@dataclass
class ThreadInfo:
    """A built thread plus what the task and notification builders need to know."""

    thread: CommunicationThread
    scenario: Scenario
    topic: int
    facts: dict
    order: Order | None
    last_incoming: CommunicationMessage | None
    # When its messages were written, oldest first (calls are logged between them).
    message_times: list[datetime]


def build_threads(ctx: DemoContext) -> tuple[list[ThreadInfo], int]:
    """Add the threads and their messages; return the threads and the message count."""
    plan = [(channel, key) for channel, key, count in PLAN for _ in range(count)]
    ctx.rng.shuffle(plan)
    orders_by_status: dict[str, list[Order]] = {}
    for order in ctx.orders:
        orders_by_status.setdefault(order.status.value, []).append(order)
    infos, messages = [], []
    # Every demo channel runs on the default calendar; look it and the policies up once.
    sla = DemoSla(
        schedule_of(calendar_for(None)),
        active_policies(),
        overdue_team_id=ctx.teams["customer-service"].id,
    )
    for channel_type, key in plan:
        info, thread_messages = _thread(ctx, channel_type, SCENARIOS[key], orders_by_status, sla)
        infos.append(info)
        messages += thread_messages
    db.session.add_all([info.thread for info in infos])
    db.session.flush()
    for start in range(0, len(messages), 500):
        db.session.add_all(messages[start : start + 500])
        db.session.flush()
    db.session.add_all(sla.alerts)
    return infos, len(messages)


def _weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _thread(ctx: DemoContext, channel_type: C, scenario: Scenario, orders_by_status, sla: DemoSla):
    rng = ctx.rng
    internal = channel_type in INTERNAL_CHANNELS
    topic = rng.randrange(len(scenario.topics))
    order, customer = _subject_of(ctx, scenario, topic, orders_by_status)
    partner = _order_partner(ctx, order)
    about_partner = scenario.thread_type == ThreadType.PARTNER_INQUIRY
    contact = partner.contact if about_partner else customer.contact
    status = _weighted(
        rng,
        INTERNAL_STATUSES
        if internal
        else SMS_STATUSES
        if channel_type == C.SMS
        else CUSTOMER_STATUSES,
    )
    priority = _weighted(
        rng, COMPLAINT_PRIORITIES if scenario.thread_type == ThreadType.COMPLAINT else PRIORITIES
    )
    if status == T.ESCALATED and priority in (Priority.LOW, Priority.NORMAL):
        priority = Priority.HIGH
    # Internal work in progress moved on when a colleague last wrote; an open one waits.
    waiting = status in AWAITING_US and (
        status == T.OPEN if internal else sla.customer_waits(channel_type, status)
    )
    if status == T.OPEN and not waiting:
        status = T.IN_PROGRESS  # answered: a reply moves an open conversation on
    team_slug = _weighted(rng, dict(scenario.teams))
    assignee = None
    if internal or status != T.OPEN or rng.random() > 0.35:
        assignee = _pick_member(
            ctx,
            team_slug,
            escalated=status == T.ESCALATED,
            still_open=status not in CLOSED,
            internal=internal,
        )
    topic_team = scenario.teams[0][0]
    if status in CLOSED and team_slug != topic_team:
        # A conversation that reached another desk was passed on to the team its topic
        # belongs to before it ended: what team suggestions learn from.
        # Chosen without the random generator, so the demo's later draws stay as they were.
        team_slug = topic_team
        members = [
            user
            for user in _writers(ctx.team_members(team_slug), internal)
            if user.role != Role.ADMIN
        ]
        assignee = members[topic % len(members)] if members else assignee
    facts = thread_facts(ctx, customer, order, partner)
    channel = ctx.channels[channel_type]
    thread = CommunicationThread(
        id=uuid.uuid4(),
        thread_subject=scenario.topics[topic].subject.format_map(facts),
        thread_type=scenario.thread_type,
        priority=priority,
        status=status,
        channel_id=channel.id,
        contact_id=contact.id,
        order_id=order.id if order else None,
        customer_organization_id=customer.organization.id,
        partner_organization_id=partner.master.id if partner else None,
        assigned_team_id=ctx.teams[team_slug].id,
        assigned_to_user_id=assignee.id if assignee else None,
        # Drawn here, in the order the demo's random sequence has always had.
        assignment_reason=(
            english(reason)
            if (reason := _assignment_reason(ctx, scenario, team_slug, assignee))
            else None
        ),
        assignment_reason_text=to_json(reason) if reason else None,
        sla_stage=0,
        # Every thread names the same columns, so they go in as one batch of inserts.
        **dict.fromkeys(SLA_COLUMNS),
        sla_cycle=0,
        tags=_tags(ctx, scenario, order, partner),
        external_references=_external_references(ctx, channel_type, contact),
        sla_paused_seconds=0,
        lock_version=1,
    )
    thread.channel = channel
    anchor = _last_activity(ctx, sla, thread, waiting)
    builder = MessageBuilder(ctx, thread, scenario, channel, contact, facts, topic, assignee)
    thread_messages = builder.build(status, anchor, internal, waiting, sla.schedule)
    first, last = thread_messages[0], thread_messages[-1]
    thread.created_at = first.created_at
    thread.updated_at = thread.last_message_at = last.created_at
    thread.last_message_preview = last.message_content[:280]
    thread.first_response_at = builder.first_response_at
    thread.created_by_user_id = first.sender_user_id
    if status in (T.RESOLVED, T.CLOSED):
        thread.resolved_at = last.created_at
    if status == T.WAITING_CUSTOMER:
        thread.sla_paused_at = last.created_at
    _business_durations(sla.schedule, thread, thread_messages)
    asked = [m for m in thread_messages if m.message_type == MessageType.INCOMING]
    if waiting:
        start_running_cycle(sla, ctx.now, thread, channel, anchor)
    elif asked:
        record_answered_cycle(sla, thread, channel, asked[-1].created_at)
        note_late_first_answer(sla, thread, asked[0].created_at)
    times = [m.created_at for m in thread_messages]
    info = ThreadInfo(thread, scenario, topic, facts, order, builder.last_incoming, times)
    return info, thread_messages


def _subject_of(ctx: DemoContext, scenario: Scenario, topic: int, orders_by_status):
    """The order a thread is about (if any) and the household it belongs to."""
    rng = ctx.rng
    # Sales questions usually come from people who have not ordered yet.
    if scenario.thread_type == ThreadType.SALES_INQUIRY and rng.random() < 0.6:
        return None, rng.choice(ctx.customers)
    statuses = scenario.topics[topic].order_statuses or scenario.order_statuses
    candidates = [order for status in statuses for order in orders_by_status.get(status, [])]
    if scenario.thread_type == ThreadType.PARTNER_INQUIRY:
        candidates = [order for order in candidates if order.partner_order_id]
    order = rng.choice(candidates)
    return order, ctx.order_customer[order.id]


def _order_partner(ctx: DemoContext, order: Order | None):
    if order is None or order.partner_organization_id is None:
        return None
    for partner in ctx.partners.values():
        if partner.organization.id == order.partner_organization_id:
            return partner
    return None


def _writers(members: list, internal: bool) -> list:
    """Who can take the conversation: for one with a customer, the desk members (a
    technician sends customers the visit messages only,
    app.conversations.workspace.technician_replies,
    so the team's desk answers its customers); anyone for internal work."""
    desk = [user for user in members if user.role != Role.TECHNICIAN]
    return members if internal or not desk else desk


def _pick_member(
    ctx: DemoContext, team_slug: str, *, escalated: bool, still_open: bool, internal: bool
):
    """Who has the conversation: for an open one, the member with the least open work
    for their share (as the least-loaded routing of the assignment rules does), so no
    one's queue towers over a colleague's; a closed one went to anyone of the team."""
    members = _writers(ctx.team_members(team_slug), internal)
    if escalated:
        leads = [user for user in members if user.role in (Role.TEAM_LEAD, Role.MANAGER)]
        members = leads or members
    # Agents carry the queue evenly (the demo agent as much as a colleague); leads,
    # the manager and technicians, who have other work, half as much.
    weights = [
        0 if user.role == Role.ADMIN else 2 if user.role == Role.AGENT else 1 for user in members
    ]
    if not any(weights):
        weights = [1] * len(members)
    drawn = ctx.rng.choices(members, weights=weights)[0]
    if not still_open:
        return drawn
    share = dict(zip((user.id for user in members), weights, strict=True))
    candidates = [user for user in members if share[user.id]]
    # The drawn one breaks ties, so the order stays the seeded one.
    chosen = min(
        candidates,
        key=lambda user: (ctx.open_load.get(user.id, 0) / share[user.id], user is not drawn),
    )
    ctx.open_load[chosen.id] = ctx.open_load.get(chosen.id, 0) + 1
    return chosen


def _last_activity(
    ctx: DemoContext, sla: DemoSla, thread: CommunicationThread, waiting: bool
) -> datetime:
    """When the thread last moved: for one waiting on us, when the customer's question came.

    Those waits are business time counted back from now (:mod:`app.seed.demo_sla`):
    a normal morning, a few near their deadline and one overdue. The others moved
    in the desk's opening hours of the past weeks (:data:`LAST_MOVED_HOURS`).
    """
    if waiting:
        return waiting_since(ctx.rng, sla, ctx.now, thread)
    hours = ctx.rng.uniform(*LAST_MOVED_HOURS[thread.status])
    return business_ago(sla.schedule, ctx.now, hours * 3600)


def _business_durations(schedule: Schedule, thread, thread_messages) -> None:
    """First response and resolution in business time, as the live SLA clock records them."""
    asked = next((m for m in thread_messages if m.message_type == MessageType.INCOMING), None)
    if asked is not None and thread.first_response_at is not None:
        thread.first_response_seconds = max(
            business_seconds_between(schedule, asked.created_at, thread.first_response_at), 0
        )
    if thread.resolved_at is not None:
        thread.resolution_seconds = max(
            business_seconds_between(schedule, thread.created_at, thread.resolved_at), 0
        )


def _assignment_reason(ctx, scenario: Scenario, team_slug: str, assignee) -> SystemText | None:
    if assignee is None:
        return None
    team = ctx.teams[team_slug].name
    if ctx.rng.random() < 0.7:
        return text("routing.auto_to", user=assignee.name, team=team)
    return text("routing.manual_to", assignee=assignee.name, actor="Sanne Bakker")


def _tags(ctx: DemoContext, scenario: Scenario, order: Order | None, partner) -> list[str]:
    tags = list(scenario.tags)
    charger = ctx.order_charger.get(order.id) if order else None
    if charger:
        tags.append(charger.split()[0].lower())
    if partner is not None:
        tags.append(partner.master.name.lower())
    if ctx.rng.random() < 0.06:
        tags.append("terugbellen")
    if ctx.rng.random() < 0.03:
        tags.append("vip")
    return tags


def _external_references(ctx: DemoContext, channel_type: C, contact) -> dict:
    if channel_type == C.EMAIL_OUTLOOK:
        return {"outlook_conversation_id": "AAQkAD" + ctx.token(40)}
    if channel_type == C.WHATSAPP_BUSINESS and contact.phone:
        return {"whatsapp_chat_id": contact.phone.lstrip("+")}
    if channel_type == C.SMS and contact.phone:
        return {"sms_number": contact.phone}
    return {}
