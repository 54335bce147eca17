"""Notifications about conversations: a customer's reply, an assignment, a mention.

They listen to the conversation's events (:mod:`app.conversations.core.events`), so
the code that writes a message or assigns a thread never calls this feature.
Each listener runs after the commit that made its event true, writes its
notifications in a transaction of its own and pushes them live afterwards.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.core.events import MessageCreated, ThreadAssigned
from app.conversations.inbox.access import can_access_thread
from app.conversations.notifications.mentions import mentioned_colleagues
from app.conversations.notifications.services import announce, create_notification
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Notification, User
from app.platform.models.enums import ChannelType, MessageType
from app.platform.system_texts import Sentence, SystemText, from_json, text, verbatim
from app.platform.transactions import commit

EXCERPT_LENGTH = 200
# A customer writing three times in a row is one thing to look at, not three:
# no new reply notice while one about the thread is still unread.
COALESCED_TYPES = ("customer_reply", "thread_assigned")


@listens_to(MessageCreated)
def notify_assignee_of_customer_reply(event: MessageCreated) -> None:
    """(a) A customer's message on a thread assigned to someone tells that person."""
    # A customer's call is logged by the agent who took it: nothing is waiting
    # for the assignee to read, so it is no reply to notify of.
    if event.direction != "inbound" or event.channel_type == ChannelType.PHONE_CALL:
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    message = db.session.get(CommunicationMessage, event.message_id)
    if thread is None or message is None or thread.assigned_to_user_id is None:
        return
    assignee_id = thread.assigned_to_user_id
    # Only who may open it: a row assigned before assignees were checked (a
    # partner's portal user, a technician off the visit) is told nothing.
    if not can_access_thread(thread.assigned_to, thread):
        return
    if _has_unread_about(assignee_id, thread.id):
        return
    sender = (
        message.sender_contact.display_name
        if message.sender_contact
        else text("notification.the_customer")
    )
    _notify(
        assignee_id,
        "customer_reply",
        text("notification.customer_reply", sender=sender, subject=thread.thread_subject),
        _excerpt(message.message_content),
        thread,
        link=_message_link(thread.id, message.id),
    )


@listens_to(ThreadAssigned)
def notify_new_assignee(event: ThreadAssigned) -> None:
    """(b) A thread given to someone by a rule, an escalation or a colleague tells them.

    Nobody is told about a thread they took themselves.
    """
    if event.user_id is None or event.user_id == event.by_user_id:
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    assignee = db.session.get(User, event.user_id)
    if thread is None or assignee is None or not assignee.is_active_account:
        return
    if not can_access_thread(assignee, thread):
        return
    # A later assignment already moved it on: this one is news to nobody.
    if thread.assigned_to_user_id != event.user_id:
        return
    by = db.session.get(User, event.by_user_id) if event.by_user_id else None
    _notify(
        assignee.id,
        "thread_assigned",
        (
            text("notification.assigned_by", actor=by.name, subject=thread.thread_subject)
            if by
            else text("notification.assigned", subject=thread.thread_subject)
        ),
        # The routing reason as the catalogue sentence the thread keeps, when it has one.
        from_json(thread.assignment_reason_text)
        or (verbatim(event.reason) if event.reason else None),
        thread,
        link=f"/threads/{thread.id}",
    )


@listens_to(MessageCreated)
def notify_mentioned_colleagues(event: MessageCreated) -> None:
    """(c) An @mention in an internal note tells each mentioned colleague once."""
    if event.message_type != MessageType.INTERNAL_NOTE.value:
        return
    note = db.session.get(CommunicationMessage, event.message_id)
    if note is None:
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    # Only those who may open the conversation: the title and excerpt would
    # otherwise show another team's internal note to whoever was named.
    colleagues = [
        colleague
        for colleague in mentioned_colleagues(note.message_content, note.sender_user_id)
        if can_access_thread(colleague, thread)
    ]
    if not colleagues:
        return
    author = note.sender_user.name if note.sender_user else text("notification.a_colleague")
    made = [
        create_notification(
            colleague.id,
            "mention",
            text("notification.mention", author=author, subject=thread.thread_subject),
            _excerpt(note.message_content),
            priority=thread.priority,
            source_table="communication_message",
            source_record_id=note.id,
            link=_message_link(thread.id, note.id),
        )
        for colleague in colleagues
    ]
    commit()
    for notification in made:
        announce(notification)


def _notify(
    user_id: uuid.UUID,
    kind: str,
    title: SystemText,
    message: Sentence | None,
    thread,
    *,
    link: str,
) -> None:
    try:
        with db.session.begin_nested():
            notification = create_notification(
                user_id,
                kind,
                title,
                message,
                priority=thread.priority,
                source_table="communication_thread",
                source_record_id=thread.id,
                link=link,
            )
    except sa.exc.IntegrityError:
        # Another worker told them about this thread a moment ago; it is unread.
        return
    commit()
    announce(notification)


def _has_unread_about(user_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            sa.select(Notification.id)
            .where(
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
                Notification.source_table == "communication_thread",
                Notification.source_record_id == thread_id,
                Notification.notification_type.in_(COALESCED_TYPES),
            )
            .limit(1)
        )
        is not None
    )


def _excerpt(content: str | None) -> SystemText | None:
    """The start of what someone wrote, shown as they wrote it."""
    words = " ".join((content or "").split())
    if len(words) > EXCERPT_LENGTH:
        words = words[: EXCERPT_LENGTH - 1] + "…"
    return verbatim(words) if words else None


def _message_link(thread_id, message_id) -> str:
    """The thread shown from this message on (older than its latest page too), scrolled to it."""
    return f"/threads/{thread_id}?message={message_id}#message-{message_id}"
