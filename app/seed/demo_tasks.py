"""Demo internal tasks and the agent's notifications, built on the demo threads."""

from __future__ import annotations

from datetime import timedelta

from app.orders.mobile.services import AMSTERDAM
from app.platform.extensions import db
from app.platform.models import InternalTask, Notification
from app.platform.models.enums import (
    ChannelType,
    Priority,
    TaskStatus,
    ThreadStatus,
    ThreadType,
)
from app.platform.system_texts import english, from_json, text, to_json, verbatim
from app.seed.context import DemoContext
from app.seed.demo_content import next_workday
from app.seed.demo_conversations_extra import (
    FOLLOW_UP_TASKS,
    INTERNAL_TOPICS,
    TASK_COMPLETION_NOTES,
)
from app.seed.demo_threads import ThreadInfo

FOLLOW_UP_TASK_COUNT = 15
TASK_STATUS_BY_THREAD = {
    ThreadStatus.OPEN: TaskStatus.OPEN,
    ThreadStatus.IN_PROGRESS: TaskStatus.IN_PROGRESS,
    ThreadStatus.WAITING_INTERNAL: TaskStatus.WAITING,
    ThreadStatus.WAITING_CUSTOMER: TaskStatus.WAITING,
    ThreadStatus.ESCALATED: TaskStatus.IN_PROGRESS,
    ThreadStatus.RESOLVED: TaskStatus.COMPLETED,
    ThreadStatus.CLOSED: TaskStatus.COMPLETED,
}
DUE_TIMES = ["09:00", "11:00", "13:30", "16:00", None]
ACTIVE = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING)


def build_tasks(ctx: DemoContext, infos: list[ThreadInfo]) -> list[InternalTask]:
    """One task per internal-task thread, plus follow-ups born from customer threads."""
    rng = ctx.rng
    tasks = []
    for info in infos:
        if info.scenario.thread_type == ThreadType.INTERNAL_TASK:
            topic, task_type = INTERNAL_TOPICS[info.topic]
            description = topic.opener.format_map(info.facts)
            tasks.append(
                _task(
                    ctx,
                    info,
                    info.thread.thread_subject,
                    description,
                    task_type,
                    TASK_STATUS_BY_THREAD[info.thread.status],
                )
            )
    customer_threads = [
        info
        for info in infos
        if info.thread.channel_id
        not in (
            ctx.channels[ChannelType.INTERNAL_TASK].id,
            ctx.channels[ChannelType.INTERNAL_COMMENT].id,
        )
        and info.thread.status != ThreadStatus.CLOSED
    ]
    for info in rng.sample(customer_threads, FOLLOW_UP_TASK_COUNT):
        choices = [
            task for task in FOLLOW_UP_TASKS if info.order or "{order_number}" not in task[1]
        ]
        task_type, title = rng.choice(choices)
        facts = dict(info.facts, subject=info.thread.thread_subject)
        status = rng.choice(
            [
                TaskStatus.OPEN,
                TaskStatus.OPEN,
                TaskStatus.IN_PROGRESS,
                TaskStatus.COMPLETED,
                TaskStatus.CANCELLED,
            ]
        )
        description = f'Naar aanleiding van de thread "{info.thread.thread_subject}".'
        tasks.append(_task(ctx, info, title.format_map(facts), description, task_type, status))
    db.session.add_all(tasks)
    db.session.flush()
    return tasks


def _task(
    ctx: DemoContext, info: ThreadInfo, title: str, description: str, task_type, status: TaskStatus
) -> InternalTask:
    rng, thread = ctx.rng, info.thread
    created = min(thread.created_at + timedelta(minutes=rng.randint(5, 120)), ctx.now)
    created_day = created.astimezone(AMSTERDAM).date()
    # Due some working days after the task was made (never before its conversation):
    # the older open ones are late by now, so "overdue" has something to show.
    due_date = next_workday(created_day + timedelta(days=rng.randint(0, 8)))
    due_time = rng.choice(DUE_TIMES)
    if due_time and ctx.local_time(due_date, *_clock(due_time)) <= created:
        due_date = next_workday(due_date + timedelta(days=1))
    task = InternalTask(
        task_title=title[:255],
        task_description=description,
        task_type=task_type,
        priority=thread.priority,
        status=status,
        assigned_to_user_id=thread.assigned_to_user_id
        or rng.choice(ctx.team_members("customer-service")).id,
        assigned_team_id=thread.assigned_team_id,
        created_by_user_id=thread.created_by_user_id or ctx.user("sanne.bakker").id,
        thread_id=thread.id,
        order_id=thread.order_id,
        due_date=due_date,
        due_time=due_time,
        reminder_settings={"remind_before_minutes": 60, "channels": ["in_app"]},
        created_at=created,
        updated_at=created,
        lock_version=1,
    )
    if status == TaskStatus.COMPLETED:
        # Most on time: done in the morning of the due day, or the day before.
        done_day = due_date - timedelta(days=rng.choice([0, 0, 1, -1]))
        task.completed_at = max(
            created, min(ctx.local_time(done_day, 8, rng.randint(30, 150)), ctx.now)
        )
        task.completion_notes = rng.choice(TASK_COMPLETION_NOTES)
        task.updated_at = task.completed_at
    if status in ACTIVE and due_time and due_date >= ctx.today:
        reminder = ctx.local_time(due_date, *_clock(due_time)) - timedelta(minutes=60)
        task.next_reminder_at = reminder if reminder > ctx.now else None
    return task


def _clock(due_time: str) -> tuple[int, int]:
    hour, minute = (int(part) for part in due_time.split(":"))
    return hour, minute


def build_notifications(
    ctx: DemoContext, infos: list[ThreadInfo], tasks: list[InternalTask]
) -> int:
    """A handful of notifications for agent@switchboard.test, the newest unread."""
    agent = ctx.user("agent")
    mine = sorted(
        (info for info in infos if info.thread.assigned_to_user_id == agent.id),
        key=lambda info: info.thread.last_message_at,
        reverse=True,
    )
    rows: list[Notification] = []

    # Catalogue sentences, as create_notification stores them: each reader's language.
    def add(kind, title, message, moment, *, priority=Priority.NORMAL, source=None, link=None):
        table, record_id = source or (None, None)
        rows.append(
            Notification(
                user_id=agent.id,
                notification_type=kind,
                title=english(title),
                title_text=to_json(title),
                message=english(message) if message else None,
                message_text=to_json(message) if message else None,
                priority=priority,
                source_table=table,
                source_record_id=record_id,
                link=link,
                created_at=moment,
                updated_at=moment,
            )
        )

    incoming = [info for info in mine if info.last_incoming is not None][:3]
    kinds = {
        ctx.channels[ChannelType.WHATSAPP_BUSINESS].id: "notification.new_whatsapp",
        ctx.channels[ChannelType.SMS].id: "notification.new_sms",
    }
    for info in incoming:
        message = info.last_incoming
        kind = kinds.get(info.thread.channel_id, "notification.new_email")
        add(
            "message_received",
            text(kind, sender=info.facts["customer"]),
            verbatim(message.message_content[:200]),
            message.created_at,
            source=("communication_message", message.id),
            link=f"/threads/{info.thread.id}",
        )
    for info in mine[3:5]:
        add(
            "thread_assigned",
            text("notification.assigned", subject=info.thread.thread_subject),
            from_json(info.thread.assignment_reason_text)
            or (verbatim(info.thread.assignment_reason) if info.thread.assignment_reason else None),
            info.thread.created_at,
            source=("communication_thread", info.thread.id),
            link=f"/threads/{info.thread.id}",
        )
    overdue = [
        info
        for info in mine
        if info.thread.response_due_at and info.thread.response_due_at < ctx.now
    ][:2]
    for info in overdue:
        add(
            "sla_breach",
            text("notification.sla_passed", subject=info.thread.thread_subject),
            text("notification.sla_passed_body"),
            info.thread.response_due_at,
            priority=Priority.HIGH,
            source=("communication_thread", info.thread.id),
            link=f"/threads/{info.thread.id}",
        )
    for task in [task for task in tasks if task.assigned_to_user_id == agent.id][:2]:
        add(
            "task_assigned",
            text("notification.new_task", task=task.task_title),
            verbatim(task.task_description) if task.task_description else None,
            task.created_at,
            source=("internal_task", task.id),
            link="/tasks",
        )
    newest = max(ctx.orders, key=lambda order: order.created_at)
    customer = ctx.order_customer[newest.id]
    add(
        "order_intake_received",
        text("notification.intake", customer=customer.contact.display_name),
        text("notification.intake_location", location=customer.address.one_line()),
        newest.created_at,
        source=("orders", newest.id),
    )
    rows.sort(key=lambda row: row.created_at, reverse=True)
    for row in rows[4:]:  # older ones have been seen
        row.read_at = min(row.created_at + timedelta(minutes=30), ctx.now)
    db.session.add_all(rows)
    return len(rows)
