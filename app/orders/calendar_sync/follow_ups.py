"""Follow-ups from Outlook: a meeting an agent books with a customer becomes a task.

Graph tells us an event in an agent's calendar was created, changed or deleted
(:mod:`app.orders.calendar_sync.subscriptions`); the webhook stored the notification
and this processor, in a job, fetches the event and acts:

- an attendee's address that is a customer contact's identity makes the meeting
  a follow-up: one task (through the tasks owner, :mod:`app.conversations.tasks.services`) for
  the agent, due at the meeting's start, on the customer's latest conversation
  the agent can open;
- a moved meeting moves the task's due time; a cancelled or deleted one cancels it.

Once per meeting: the follow-up is keyed by the meeting's iCalendar UID (the same
in every attendee's calendar, so two agents at one meeting make one task), unique
in the database, and taken under a lock, so the same notification twice, or two
workers at once, make one task. Graph is called before anything is written.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.conversations.channels.outlook.client import GraphClient, GraphError
from app.conversations.channels.outlook.notifications import register_notification_source
from app.conversations.contacts.identities import EMAIL, known_contact, normalise_address
from app.conversations.inbox.access import can_access_thread
from app.conversations.tasks.services import create_task, publish_task_outcome, update_task
from app.orders.calendar_sync.subscriptions import (
    SOURCE,
    create_calendar_subscription,
    ensure_calendar_subscription,
    is_calendar_notification,
    subscription_of_notification,
)
from app.orders.calendar_sync.visit_times import AMSTERDAM
from app.platform.database import hold_advisory_lock
from app.platform.extensions import db
from app.platform.models import (
    CalendarFollowUp,
    CalendarSubscription,
    CommunicationThread,
    Contact,
    InboundWebhookEvent,
    InternalTask,
    User,
)
from app.platform.models.enums import TaskStatus
from app.platform.transactions import after_commit
from app.platform.transports.registry import is_sandboxed
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

EVENT_FIELDS = "subject,start,end,attendees,isCancelled,iCalUId,organizer,webLink"


def init_app(app) -> None:
    """Graph notifications with a calendar subscription's clientState are ours."""
    register_notification_source(SOURCE, is_calendar_notification)


def process_event(event: InboundWebhookEvent) -> None:
    """Handle one stored calendar notification (in the job's transaction, no commit)."""
    if is_sandboxed("graph"):
        raise UnprocessableEvent("Graph is not configured; the event cannot be fetched")
    notification = json.loads(event.raw_body)
    subscription = subscription_of_notification(notification)
    if subscription is None:
        raise UnprocessableEvent("no calendar subscription has this notification's clientState")
    client = GraphClient(current_app.config)
    agent = db.session.get(User, subscription.user_id)
    lifecycle = notification.get("lifecycleEvent")
    if lifecycle:
        _lifecycle(client, agent, subscription, lifecycle)
        return
    event_id = (notification.get("resourceData") or {}).get("id")
    if not event_id:
        raise UnprocessableEvent("the notification names no event")
    meeting = None
    if notification.get("changeType") != "deleted":
        meeting = fetch_meeting(client, subscription.mailbox, event_id)
    if meeting is None:
        _cancel_known(agent, subscription.mailbox, event_id)
        return
    follow_up_meeting(agent, subscription.mailbox, meeting)


def fetch_meeting(client: GraphClient, mailbox: str, event_id: str) -> dict | None:
    """The event as it is now; None when it is gone."""
    try:
        return client.get(
            f"users/{mailbox}/events/{event_id}",
            params={"$select": EVENT_FIELDS},
            # Times in UTC, whatever zone the agent's Outlook uses.
            headers={"Prefer": 'outlook.timezone="UTC"'},
        )
    except GraphError as exc:
        if exc.status == 404:
            return None
        raise


def follow_up_meeting(agent: User, mailbox: str, meeting: dict) -> InternalTask | None:
    """Make, move or cancel the meeting's follow-up task; the task (None: no customer)."""
    uid = meeting.get("iCalUId") or meeting["id"]
    hold_advisory_lock(db.session, f"calendar-follow-up:{uid}")
    known = db.session.scalar(sa.select(CalendarFollowUp).where(CalendarFollowUp.ical_uid == uid))
    starts_at = _start(meeting)
    task = db.session.get(InternalTask, known.task_id) if known and known.task_id else None
    if known is not None:
        if task is None:
            return None
        if meeting.get("isCancelled"):
            _cancel(agent, known, task)
        elif starts_at != known.starts_at:
            _due_at(agent, task, starts_at)
            known.starts_at = starts_at
        return task
    if meeting.get("isCancelled"):
        return None
    customer = customer_of(meeting, mailbox)
    if customer is None:
        log.info("meeting %s has no customer among its attendees", uid)
        return None
    task = _new_task(agent, customer, meeting, starts_at)
    db.session.add(
        CalendarFollowUp(
            ical_uid=uid,
            graph_event_id=meeting["id"],
            mailbox=mailbox,
            task_id=task.id,
            starts_at=starts_at,
            cancelled=False,
        )
    )
    db.session.flush()
    return task


def customer_of(meeting: dict, mailbox: str) -> Contact | None:
    """The first attendee whose address is a customer contact's (never our own)."""
    ours = {
        mailbox.lower(),
        ((meeting.get("organizer") or {}).get("emailAddress") or {}).get("address", "").lower(),
    }
    for attendee in meeting.get("attendees") or []:
        address = normalise_address(
            EMAIL, ((attendee or {}).get("emailAddress") or {}).get("address")
        )
        if not address or address in ours:
            continue
        if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == address)):
            continue  # a colleague
        contact = known_contact(EMAIL, address)
        if contact is not None:
            return contact
    return None


def latest_conversation(agent: User, contact: Contact) -> CommunicationThread | None:
    """The customer's most recent conversation the agent can open."""
    threads = db.session.scalars(
        sa.select(CommunicationThread)
        .where(CommunicationThread.contact_id == contact.id)
        .order_by(CommunicationThread.last_message_at.desc(), CommunicationThread.id)
        .limit(10)
    )
    return next((thread for thread in threads if can_access_thread(agent, thread)), None)


def _new_task(agent: User, customer: Contact, meeting: dict, starts_at) -> InternalTask:
    thread = latest_conversation(agent, customer)
    local = starts_at.astimezone(AMSTERDAM)
    with force_locale("nl"):
        title = _("Follow-up: %(subject)s", subject=meeting.get("subject") or customer.display_name)
        description = _(
            "Meeting with %(customer)s booked in Outlook (%(mailbox)s).",
            customer=customer.display_name,
            mailbox=agent.email,
        )
    raw = {
        "task_title": title[:255],
        "task_description": description,
        "task_type": "follow_up",
        "assigned_to_user_id": str(agent.id),
        "due_date": local.date().isoformat(),
        "due_time": local.strftime("%H:%M"),
    }
    if thread is not None:
        raw["thread_id"] = str(thread.id)
    outcome = create_task(agent, raw)
    after_commit(lambda: publish_task_outcome(outcome))
    return outcome.task


def _due_at(agent: User, task: InternalTask, starts_at) -> None:
    local = starts_at.astimezone(AMSTERDAM)
    outcome = update_task(
        agent,
        task,
        {"due_date": local.date().isoformat(), "due_time": local.strftime("%H:%M")},
    )
    after_commit(lambda: publish_task_outcome(outcome))


def _cancel(agent: User, known: CalendarFollowUp, task: InternalTask) -> None:
    known.cancelled = True
    if task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        return
    outcome = update_task(agent, task, {"status": TaskStatus.CANCELLED.value})
    after_commit(lambda: publish_task_outcome(outcome))


def _cancel_known(agent: User, mailbox: str, event_id: str) -> None:
    """A deleted (or vanished) event cancels the follow-up it made, if any."""
    known = db.session.scalar(
        sa.select(CalendarFollowUp).where(
            CalendarFollowUp.mailbox == mailbox, CalendarFollowUp.graph_event_id == event_id
        )
    )
    if known is None:
        return
    hold_advisory_lock(db.session, f"calendar-follow-up:{known.ical_uid}")
    db.session.refresh(known)
    task = db.session.get(InternalTask, known.task_id) if known.task_id else None
    if task is not None and not known.cancelled:
        _cancel(agent, known, task)


def _lifecycle(
    client: GraphClient, agent: User, subscription: CalendarSubscription, lifecycle: str
) -> None:
    if subscription.subscription_id is None:
        return
    if lifecycle == "reauthorizationRequired":
        ensure_calendar_subscription(client, agent, subscription, force_renew=True)
    elif lifecycle == "subscriptionRemoved":
        create_calendar_subscription(client, subscription)
    else:
        # "missed": the next change of each meeting is still notified and fetched
        # whole, so a follow-up catches up then.
        log.warning("Graph lifecycle event %r on the calendar of %s", lifecycle, agent.email)


def _start(meeting: dict) -> datetime:
    start = meeting.get("start") or {}
    moment = datetime.fromisoformat(start["dateTime"])
    try:
        zone = ZoneInfo(start.get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(timezone.utc)
