"""The daily digest: each working morning, every agent's pending work by e-mail.

``send_daily_digests`` runs every few minutes from the periodic scheduler and
does its work once per day, from 07:30 Amsterdam time on days the default
business calendar is open (weekends and Dutch public holidays are skipped):

- a per-day key in Redis (``SET NX`` with a short lease) lets one worker run
  the day's batch while the others return at once; when the batch finishes the
  key is marked done for the rest of the day. A worker that dies mid-batch only
  holds the lease for a few minutes, after which the next run finishes the job;
- each agent is then claimed with its own ``SET NX`` key and checked against
  the mails already recorded (the digest is an outbound e-mail in the agent's
  conversation, with ``digest_date`` in its metadata), so nobody gets two
  digests in a day however runs overlap or Redis is flushed.

Agents and team leads with no open assigned thread, no task due and no unread
@mention are skipped: a digest that says "nothing to do" teaches people to
ignore it. Unread mentions are listed with a link to the note itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.analytics.definitions import overdue
from app.analytics.sql import ZONE
from app.conversations.business_time.calendar import calendar_for, is_holiday, schedule_of
from app.conversations.channels.email.transactional import send_transactional
from app.conversations.notifications.services import recipient_language, rendered_texts
from app.conversations.tasks.reminders import CLOSED_STATUSES as CLOSED_TASKS
from app.conversations.tasks.reminders import due_moment
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.i18n import language_of
from app.platform.jobs.queues import broker
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    InternalTask,
    Notification,
    User,
)
from app.platform.models.enums import MessageType, Role, ThreadStatus
from app.platform.transactions import commit
from app.platform.ui import local_date, local_time

log = logging.getLogger(__name__)

TEMPLATE_KEY = "daily_digest"
CATEGORIES = ["digest", "internal"]
RECIPIENT_ROLES = (Role.AGENT, Role.TEAM_LEAD)
SEND_FROM = time(7, 30)
# After this a missed morning is left out: a digest at 3 pm is noise, not a plan.
SEND_UNTIL = time(12, 0)
MAX_LISTED = 25  # threads (and tasks) listed in full; the rest are counted
BATCH_LEASE_SECONDS = 10 * 60
DAY_KEY_SECONDS = 36 * 3600
CLOSED_THREADS = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
SENT, SKIPPED, FAILED = "sent", "skipped", "failed"


@dataclass(frozen=True)
class Digest:
    """What one person has pending this morning."""

    user: User
    day: date
    threads: list[dict]
    threads_total: int
    threads_overdue: int
    tasks: list[dict]
    unread_notifications: int
    # Unread @mentions in colleagues' notes, newest first, each linking to its note.
    mentions: list[dict] = field(default_factory=list)

    @property
    def has_pending_work(self) -> bool:
        return bool(self.threads_total or self.tasks or self.mentions)

    def subject(self) -> str:
        """In the current locale: the job sending it chooses the reader's language."""
        parts = [ngettext("%(num)d open thread", "%(num)d open threads", self.threads_total)]
        if self.threads_overdue:
            parts.insert(0, _("%(count)d overdue", count=self.threads_overdue))
        if self.tasks:
            parts.append(ngettext("%(num)d task due", "%(num)d tasks due", len(self.tasks)))
        if self.mentions:
            parts.append(ngettext("%(num)d mention", "%(num)d mentions", len(self.mentions)))
        return _(
            "Your day, %(day)s: %(summary)s",
            day=local_date(self.day, "%a %d %b"),
            summary=", ".join(parts),
        )

    def dynamic_data(self, base_url: str) -> dict:
        return {
            "name": self.user.name,
            "date": self.day.isoformat(),
            "date_text": local_date(self.day, "%A %d %B %Y"),
            "threads": self.threads,
            "threads_total": self.threads_total,
            "threads_overdue": self.threads_overdue,
            "threads_not_listed": max(self.threads_total - len(self.threads), 0),
            "tasks": self.tasks,
            "unread_notifications": self.unread_notifications,
            "mentions": self.mentions,
            "inbox_url": f"{base_url}/inbox?filter=mine",
            "tasks_url": f"{base_url}/tasks",
        }


def is_digest_morning(now: datetime) -> bool:
    """Whether ``now`` falls in the digest window of a working day."""
    local = now.astimezone(ZONE)
    schedule = schedule_of(calendar_for(None))
    day = local.date()
    working = bool(schedule.weekly[day.weekday()]) and not is_holiday(schedule, day)
    return working and SEND_FROM <= local.time() < SEND_UNTIL


def send_daily_digests(now: datetime | None = None) -> int:
    """Job: send today's digests once, whichever worker gets there first; returns how many."""
    now = now or utcnow()
    if not is_digest_morning(now):
        return 0
    day = now.astimezone(ZONE).date()
    redis = broker().connection
    day_key = f"switchboard:digest:{day.isoformat()}"
    if not redis.set(day_key, "running", nx=True, ex=BATCH_LEASE_SECONDS):
        return 0
    outcomes: list[str] = []
    try:
        for user_id in _recipient_ids():
            outcomes.append(_send_one(user_id, day, now))
    except Exception:
        redis.delete(day_key)  # the next run finishes the batch
        raise
    if FAILED in outcomes:
        # The next run retries those; agents already done are skipped by their claims.
        redis.delete(day_key)
    else:
        redis.set(day_key, "done", ex=DAY_KEY_SECONDS)
    sent = outcomes.count(SENT)
    log.info("daily digest %s: sent %d, failed %d", day.isoformat(), sent, outcomes.count(FAILED))
    return sent


def _recipient_ids() -> list:
    return list(
        db.session.scalars(
            sa.select(User.id)
            .where(User.role.in_(RECIPIENT_ROLES), User.is_active_account.is_(True))
            .order_by(User.name, User.id)
        )
    )


def _send_one(user_id, day: date, now: datetime) -> str:
    """Send one person's digest unless claimed, already sent or empty; the outcome."""
    redis = broker().connection
    claim = f"switchboard:digest:{day.isoformat()}:{user_id}"
    if not redis.set(claim, "1", nx=True, ex=DAY_KEY_SECONDS):
        return SKIPPED
    try:
        user = db.session.get(User, user_id)
        if user is None or already_sent(user, day):
            return SKIPPED
        # Written in the agent's language: dates, and the texts, are theirs.
        with force_locale(language_of(user)):
            digest = build_digest(user, day, now)
            if not digest.has_pending_work:
                return SKIPPED
            send_digest(digest)
        commit()
        return SENT
    except Exception:
        db.session.rollback()
        redis.delete(claim)
        log.exception("daily digest for user %s on %s failed", user_id, day.isoformat())
        return FAILED


def build_digest(user: User, day: date, now: datetime) -> Digest:
    """Collect ``user``'s open threads (overdue first), tasks due by ``day`` and unread count."""
    Thread = CommunicationThread
    open_threads = sa.and_(
        Thread.assigned_to_user_id == user.id, Thread.status.not_in(CLOSED_THREADS)
    )
    threads_total, threads_overdue = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(Thread.id).filter(overdue(now)),
        ).where(open_threads)
    ).one()
    # Earliest deadline first puts the overdue ones on top; no deadline goes last.
    threads = db.session.scalars(
        sa.select(Thread)
        .where(open_threads)
        .order_by(
            Thread.response_due_at.is_(None),
            Thread.response_due_at,
            Thread.last_message_at.desc(),
        )
        .limit(MAX_LISTED)
    ).all()
    tasks = db.session.scalars(
        sa.select(InternalTask)
        .where(
            InternalTask.assigned_to_user_id == user.id,
            InternalTask.status.not_in(CLOSED_TASKS),
            InternalTask.due_date.is_not(None),
            InternalTask.due_date <= day,
        )
        .order_by(InternalTask.due_date, InternalTask.due_time.is_(None), InternalTask.due_time)
        .limit(MAX_LISTED)
    ).all()
    unread = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return Digest(
        user=user,
        day=day,
        threads=[_thread_item(thread, now, base_url) for thread in threads],
        threads_total=int(threads_total),
        threads_overdue=int(threads_overdue),
        tasks=[_task_item(task, now, base_url) for task in tasks],
        unread_notifications=int(unread or 0),
        mentions=unread_mentions(user, base_url),
    )


def unread_mentions(user: User, base_url: str) -> list[dict]:
    """``user``'s unread @mention notifications, newest first, in their language."""
    mentions = db.session.scalars(
        sa.select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.notification_type == "mention",
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at.desc())
        .limit(MAX_LISTED)
    ).all()
    items = []
    with force_locale(recipient_language(user.id)):
        for mention in mentions:
            title, excerpt = rendered_texts(mention)
            items.append(
                {
                    "title": title,
                    "excerpt": excerpt,
                    "at_text": _local_text(mention.created_at),
                    # The note itself: the thread from that message on, scrolled to it.
                    "url": f"{base_url}{mention.link}" if mention.link else None,
                }
            )
    return items


def _local_text(moment: datetime | None) -> str | None:
    return None if moment is None else local_time(moment, "%a %d %b %H:%M")


def _thread_item(thread: CommunicationThread, now: datetime, base_url: str) -> dict:
    due = thread.response_due_at
    return {
        "subject": thread.thread_subject,
        "status": thread.status.value,
        "priority": thread.priority.value,
        "due_at": due.isoformat() if due else None,
        "due_text": _local_text(due),
        "overdue": bool(due and due < now),
        "url": f"{base_url}/threads/{thread.id}",
    }


def _task_item(task: InternalTask, now: datetime, base_url: str) -> dict:
    due = due_moment(task)
    return {
        "title": task.task_title,
        "priority": task.priority.value,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "due_time": task.due_time,
        "due_text": _local_text(due),
        "overdue": bool(due and due <= now),
        "url": f"{base_url}/tasks/{task.id}/edit",
    }


def send_digest(digest: Digest) -> CommunicationMessage:
    """Record the digest e-mail and queue it; the caller commits with ``commit()``."""
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return send_transactional(
        digest.user.email,
        TEMPLATE_KEY,
        digest.dynamic_data(base_url),
        CATEGORIES,
        name=digest.user.name,
        subject=digest.subject(),
        extra={"digest_date": digest.day.isoformat(), "digest_user_id": str(digest.user.id)},
    )


def already_sent(user: User, day: date) -> bool:
    """Whether ``user``'s conversation already holds the digest of ``day``."""
    contact_ids = sa.select(Contact.id).where(sa.func.lower(Contact.email) == user.email.lower())
    query = (
        sa.select(CommunicationMessage.id)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.contact_id.in_(contact_ids),
            CommunicationMessage.message_type == MessageType.OUTGOING,
            # Recorded on its own local day: lets the (thread, created_at) index narrow it.
            CommunicationMessage.created_at >= _day_start(day),
            CommunicationMessage.extra["template_key"].as_string() == TEMPLATE_KEY,
            CommunicationMessage.extra["digest_date"].as_string() == day.isoformat(),
        )
        .limit(1)
    )
    return db.session.scalar(query) is not None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE).astimezone(timezone.utc)
