"""Who hears about a ladder step, and how: in-app, Socket.IO ``sla:alert``, Teams.

Steps 1–2 go to the assignee and the team lead in-app and live; steps 3–4
also go to the Teams management channel (``sla_escalation``), which is for
breaches, not for every early reminder. When one scan round would send more
than ``DIGEST_THRESHOLD`` alerts to one person (or to Teams), that person gets
one digest listing them instead of a flood, and the alerts carry the digest's
id in ``SlaAlert.digest_id``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.conversations.business_time.calendar import (
    Schedule,
    add_business_seconds,
    calendar_for,
    schedule_of,
)
from app.conversations.channels.teams.sender import notify_teams
from app.conversations.core import announce_change, record_status_line
from app.conversations.inbox.access import can_access_thread
from app.conversations.notifications.services import create_notification, notification_to_dict
from app.conversations.tasks.services import TaskOutcome, publish_task_outcome
from app.platform.extensions import db
from app.platform.i18n import default_language, language_of
from app.platform.models import (
    CommunicationChannel,
    CommunicationThread,
    InternalTask,
    User,
)
from app.platform.models.enums import (
    Priority,
    Role,
    TaskStatus,
    TaskType,
    ThreadStatus,
)
from app.platform.models.sla import SlaAlert
from app.platform.realtime import publish_to_users
from app.platform.system_texts import SystemText, text
from app.platform.transactions import after_commit

DIGEST_THRESHOLD = 5
DIGEST_LISTED = 10  # lines listed in a digest before "and N more"
TEAMS_STEPS = frozenset({3, 4})
ESCALATION_TASK_MINUTES = 30

STEP_NAMES = {1: "reminder", 2: "team_lead", 3: "escalation", 4: "executive"}
STEP_LABELS = {
    1: "75% of the response time used",
    2: "90% of the response time used",
    3: "response deadline passed: escalated to management",
    4: "24 hours overdue",
}
NOTIFICATION_PRIORITY = {
    1: Priority.NORMAL,
    2: Priority.HIGH,
    3: Priority.URGENT,
    4: Priority.CRITICAL,
}
OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.WAITING)


@dataclass
class FiredAlert:
    alert_id: uuid.UUID
    thread: CommunicationThread
    step: int
    due_at: datetime
    recipients: list[User]


@dataclass
class RoundContext:
    """What one scan round looks up once: staff by role and team, channels, calendars."""

    now: datetime
    users: dict[uuid.UUID, User]
    channels: dict[uuid.UUID, CommunicationChannel]
    _schedules: dict[object, Schedule] = field(default_factory=dict)
    _manager_load: dict[uuid.UUID, int] | None = None

    @classmethod
    def for_threads(cls, threads: list[CommunicationThread], now: datetime) -> RoundContext:
        assignee_ids = {t.assigned_to_user_id for t in threads if t.assigned_to_user_id}
        staff = db.session.scalars(
            sa.select(User).where(
                User.is_active_account.is_(True),
                sa.or_(
                    User.role.in_((Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)),
                    User.id.in_(assignee_ids),
                ),
            )
        )
        channel_ids = {t.channel_id for t in threads if t.channel_id}
        channels = db.session.scalars(
            sa.select(CommunicationChannel).where(CommunicationChannel.id.in_(channel_ids))
        )
        return cls(now, {u.id: u for u in staff}, {c.id: c for c in channels})

    def channel(self, thread: CommunicationThread) -> CommunicationChannel | None:
        return self.channels.get(thread.channel_id) if thread.channel_id else None

    def schedule(self, thread: CommunicationThread) -> Schedule:
        channel = self.channel(thread)
        key = channel.business_calendar_id if channel else None
        if key not in self._schedules:
            self._schedules[key] = schedule_of(calendar_for(channel))
        return self._schedules[key]

    def _by_role(self, *roles: Role, team_id: uuid.UUID | None = None) -> list[User]:
        people = [u for u in self.users.values() if u.role in roles]
        if team_id is not None:
            people = [u for u in people if u.team_id == team_id]
        return sorted(people, key=lambda u: (u.name, str(u.id)))

    def recipients(self, thread: CommunicationThread, step: int) -> list[User]:
        """Step 1 assignee (else team lead); 2 team lead; 3 managers; 4 managers and admins.

        Where nobody holds the role asked for, the alert climbs to the next one
        rather than going to nobody.
        """
        assignee = (
            self.users.get(thread.assigned_to_user_id) if thread.assigned_to_user_id else None
        )
        if assignee is not None and not can_access_thread(assignee, thread):
            assignee = None  # assigned before assignees were checked: told as if unassigned
        team_id = thread.assigned_team_id or (assignee.team_id if assignee else None)
        managers = self._by_role(Role.MANAGER) or self._by_role(Role.ADMIN)
        leads = self._by_role(Role.TEAM_LEAD, team_id=team_id) if team_id else []
        if step == 1:
            return [assignee] if assignee else (leads or managers)
        if step == 2:
            return leads or managers
        if step == 3:
            return managers
        return self._by_role(Role.MANAGER, Role.ADMIN)

    def least_loaded_manager(self) -> User | None:
        """The manager with the fewest open escalation tasks (counted once per round)."""
        managers = self._by_role(Role.MANAGER) or self._by_role(Role.ADMIN)
        if not managers:
            return None
        if self._manager_load is None:
            rows = db.session.execute(
                sa.select(InternalTask.assigned_to_user_id, sa.func.count())
                .where(
                    InternalTask.task_type == TaskType.ESCALATE,
                    InternalTask.status.in_(OPEN_TASK_STATUSES),
                    InternalTask.assigned_to_user_id.in_([m.id for m in managers]),
                )
                .group_by(InternalTask.assigned_to_user_id)
            )
            self._manager_load = {user_id: count for user_id, count in rows}
        chosen = min(managers, key=lambda m: self._manager_load.get(m.id, 0))
        self._manager_load[chosen.id] = self._manager_load.get(chosen.id, 0) + 1
        return chosen


# --- step 3: escalation ---------------------------------------------------------


def escalate(thread: CommunicationThread, now: datetime, context: RoundContext) -> None:
    """Put the thread in status escalated and give a manager an escalation task.

    The cycle goes on (its 24-hours-overdue step is still to come). A thread
    that already has an open escalation task does not get a second one.
    """
    if thread.status != ThreadStatus.ESCALATED:
        thread.status = ThreadStatus.ESCALATED
        # A form opened before this change must not silently undo it.
        thread.lock_version = (thread.lock_version or 0) + 1
    record_status_line(thread, text("sla.escalated"), at=now)
    has_task = db.session.scalar(
        sa.select(InternalTask.id)
        .where(
            InternalTask.thread_id == thread.id,
            InternalTask.task_type == TaskType.ESCALATE,
            InternalTask.status.in_(OPEN_TASK_STATUSES),
        )
        .limit(1)
    )
    if has_task is None:
        manager = context.least_loaded_manager()
        schedule = context.schedule(thread)
        due = add_business_seconds(schedule, now, ESCALATION_TASK_MINUTES * 60)
        local_due = due.astimezone(ZoneInfo(schedule.zone))
        task = InternalTask(
            task_title=_("SLA escalation: %(subject)s", subject=thread.thread_subject)[:255],
            task_description=_(
                "The customer has had no answer within the response time. "
                "Answer them or hand the conversation to someone who can."
            ),
            task_type=TaskType.ESCALATE,
            priority=(
                thread.priority
                if thread.priority in (Priority.URGENT, Priority.CRITICAL)
                else Priority.HIGH
            ),
            status=TaskStatus.OPEN,
            assigned_to_user_id=manager.id if manager else None,
            thread_id=thread.id,
            order_id=thread.order_id,
            due_date=local_due.date(),
            due_time=local_due.strftime("%H:%M"),
        )
        db.session.add(task)
        after_commit(lambda: publish_task_outcome(TaskOutcome(task, newly_assigned_to=manager)))
    announce_change(thread, "sla_escalated")


# --- delivery -----------------------------------------------------------------------


def deliver(fired: list[FiredAlert], context: RoundContext) -> None:
    """Create the notifications for a round's alerts; announce them after the commit."""
    if not fired:
        return
    digest_id = uuid.uuid4().hex
    digested: set[uuid.UUID] = set()
    per_user: dict[uuid.UUID, list[FiredAlert]] = defaultdict(list)
    recipients: dict[uuid.UUID, User] = {}
    for alert in fired:
        for user in alert.recipients:
            per_user[user.id].append(alert)
            recipients[user.id] = user
    notifications = []
    live: list[tuple[uuid.UUID, dict]] = []
    for user_id, alerts in per_user.items():
        # The live alert is read by its recipient: built in their language.
        with force_locale(language_of(recipients[user_id])):
            if len(alerts) > DIGEST_THRESHOLD:
                notifications.append(_digest_notification(user_id, alerts, context))
                live.append((user_id, _digest_payload(digest_id, alerts, context)))
                digested.update(a.alert_id for a in alerts)
            else:
                for alert in alerts:
                    notifications.append(_alert_notification(user_id, alert, context))
                    live.append((user_id, alert_payload(alert, context)))
    teams_alerts = [a for a in fired if a.step in TEAMS_STEPS]
    # A Teams channel is read by a team, not one person: the default language.
    with force_locale(default_language()):
        if len(teams_alerts) > DIGEST_THRESHOLD:
            teams_cards = [_teams_digest(teams_alerts, context)]
            digested.update(a.alert_id for a in teams_alerts)
        else:
            teams_cards = [_teams_card(a, context) for a in teams_alerts]
    if digested:
        db.session.execute(
            sa.update(SlaAlert)
            .where(SlaAlert.id.in_(digested))
            .values(digest_id=digest_id)
            .execution_options(synchronize_session=False)
        )

    # Built now: after the commit each notification would be reloaded, one query each.
    db.session.flush()
    bells = [(n.user_id, notification_to_dict(n, rendered=True)) for n in notifications]

    def _announce() -> None:
        for user_id, bell in bells:
            publish_to_users("notification:new", bell, [user_id])
        for user_id, payload in live:
            publish_to_users("sla:alert", payload, [user_id])
        for card in teams_cards:
            notify_teams("sla_escalation", card)

    after_commit(_announce)


def alert_payload(alert: FiredAlert, context: RoundContext) -> dict:
    """The ``sla:alert`` event for one step of one thread."""
    thread = alert.thread
    return {
        "thread_id": str(thread.id),
        "subject": thread.thread_subject,
        "step": alert.step,
        "step_name": STEP_NAMES[alert.step],
        "label": STEP_LABELS[alert.step],
        "sla_cycle": thread.sla_cycle,
        "status": ThreadStatus(thread.status).value,
        "response_due_at": thread.response_due_at.isoformat() if thread.response_due_at else None,
        "link": f"/threads/{thread.id}",
    }


def _digest_payload(digest_id: str, alerts: list[FiredAlert], context: RoundContext) -> dict:
    return {
        "digest": True,
        "digest_id": digest_id,
        "count": len(alerts),
        "alerts": [alert_payload(alert, context) for alert in alerts],
        "link": "/inbox?sort=urgency",
    }


def _alert_notification(user_id: uuid.UUID, alert: FiredAlert, context: RoundContext):
    thread = alert.thread
    return create_notification(
        user_id,
        f"sla_{STEP_NAMES[alert.step]}",
        text("notification.sla", subject=thread.thread_subject),
        _due_text(alert, context),
        priority=NOTIFICATION_PRIORITY[alert.step],
        source_table="sla_alerts",
        source_record_id=alert.alert_id,
        link=f"/threads/{thread.id}",
        flush=False,
    )


def _digest_notification(user_id: uuid.UUID, alerts: list[FiredAlert], context: RoundContext):
    lines = [
        text(
            "notification.sla_digest_line",
            subject=a.thread.thread_subject,
            stage=step_text(a.step),
        )
        for a in alerts[:DIGEST_LISTED]
    ]
    if len(alerts) > DIGEST_LISTED:
        lines.append(text("notification.sla_digest_more", count=len(alerts) - DIGEST_LISTED))
    return create_notification(
        user_id,
        "sla_digest",
        text("notification.sla_digest", count=len(alerts)),
        lines,
        priority=max((NOTIFICATION_PRIORITY[a.step] for a in alerts), key=_priority_rank),
        source_table="sla_alerts",
        link="/inbox?sort=urgency",
        flush=False,
    )


def _teams_card(alert: FiredAlert, context: RoundContext) -> dict:
    thread = alert.thread
    channel = context.channel(thread)
    assignee = context.users.get(thread.assigned_to_user_id) if thread.assigned_to_user_id else None
    return {
        "thread_id": str(thread.id),
        "thread_subject": thread.thread_subject,
        "channel": channel.channel_name if channel else None,
        "response_due_at": _local(
            alert.due_at if alert.step < 4 else thread.response_due_at, context, thread
        ),
        "overdue_by": _span(context.now - (thread.response_due_at or alert.due_at)),
        "assigned_to": assignee.name if assignee else _("nobody"),
        "stage": _(
            "%(step)s of 4: %(label)s", step=alert.step, label=step_text(alert.step).render()
        ),
    }


def _teams_digest(alerts: list[FiredAlert], context: RoundContext) -> dict:
    subjects = "; ".join(a.thread.thread_subject for a in alerts[:DIGEST_LISTED])
    return {
        "summary": ngettext(
            "%(num)d conversation passed its SLA: %(subjects)s",
            "%(num)d conversations passed their SLA: %(subjects)s",
            len(alerts),
            subjects=subjects,
        ),
        "thread_subject": ngettext("%(num)d conversation", "%(num)d conversations", len(alerts)),
        "stage": "digest",
        "path": "/inbox?sort=urgency",
    }


def step_text(step: int, *, first: bool = False) -> SystemText:
    """A step of the ladder as a catalogue label (``first``: opening a sentence)."""
    if step in (1, 2):
        return text("sla_step.used", percent=75 if step == 1 else 90)
    return text("sla_step.3_first" if first and step == 3 else f"sla_step.{step}")


def _due_text(alert: FiredAlert, context: RoundContext) -> SystemText:
    """The stage, then when the answer is due or how long it is overdue."""
    stage = step_text(alert.step, first=True)
    due = alert.thread.response_due_at
    if due is None:
        return text("notification.sla_stage", stage=stage)
    if due > context.now:
        return text(
            "notification.sla_answer_due", stage=stage, due=_local(due, context, alert.thread)
        )
    return text("notification.sla_overdue_by", stage=stage, span=_span(context.now - due))


def _local(moment: datetime | None, context: RoundContext, thread: CommunicationThread):
    if moment is None:
        return None
    zone = ZoneInfo(context.schedule(thread).zone)
    # Digits only: the notification stores this and is read later in the reader's
    # language, where an English day or month name ("Wed 25 Nov") would stay English.
    return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")


def _span(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(minutes)s min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if minutes:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return _("%(hours)s h", hours=hours)


def _priority_rank(priority: Priority) -> int:
    return list(Priority).index(priority)
