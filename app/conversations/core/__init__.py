"""The conversation's owner: the only code that writes threads and messages.

Every feature that adds to a conversation calls these functions: channel
processors record a customer's message, the composer posts our reply, a note
or a status line is recorded, a provider's report moves the ticks, an admin's
GDPR erasure empties a customer's conversations (:mod:`.erasure`), two
conversations become one or change customer (:mod:`.merging`), a person
snoozes one and it wakes (:mod:`.snoozing`), the language a customer wrote
in is noted (:mod:`.languages`). Each keeps
the thread's preview, search document and SLA clock right in the caller's
transaction and publishes events (:mod:`app.conversations.core.events`) that
listeners of other features hear after the commit: live updates
(``app.conversations.workspace.listeners``), routing (``app.conversations.assignment.listeners``),
the
WhatsApp automations (``app.conversations.channels.whatsapp.listeners``) and the send job
(:mod:`app.conversations.core.sending`). A test keeps anyone else from constructing
a thread or a message.
"""

from app.conversations.core.calls import (
    call_answers_customer,
    format_duration,
    log_call,
)
from app.conversations.core.collisions import (
    ReplyCollision,
    UnknownSeenMessage,
    latest_message_id,
    newer_than_seen,
)
from app.conversations.core.erasure import (
    ERASED_SUBJECT,
    ConversationsErased,
    erase_messages,
    erase_threads,
    redact_mentions,
)
from app.conversations.core.events import (
    MessageCreated,
    ThreadAssigned,
    ThreadChanged,
    ThreadOpened,
)
from app.conversations.core.holding import withdraw_outbound
from app.conversations.core.inbound import (
    InboundMessage,
    record_inbound,
    record_sent_elsewhere,
    subject_from,
)
from app.conversations.core.languages import DETECT_JOB, note_message_language
from app.conversations.core.merging import (
    MergeRefused,
    MovedConversations,
    kept_thread_of,
    merge_pointer,
    merge_refusal,
    merge_threads,
    merged_thread_ids,
    move_conversations,
)
from app.conversations.core.messages import (
    PREVIEW_LENGTH,
    advance_delivery,
    apply_delivery_report,
    apply_delivery_reports,
    post_note,
    post_outbound,
    record_delivery,
    record_status_line,
    touch,
)
from app.conversations.core.reads import mark_read
from app.conversations.core.senders import Sender, hold_senders
from app.conversations.core.snoozing import (
    CannotSnooze,
    end_for_status_change,
    snooze,
    unsnooze,
    wake_due_snoozes,
)
from app.conversations.core.threads import (
    announce_change,
    assign,
    channel_of_type,
    latest_open_thread,
    new_channel,
    note_routing,
    open_thread,
    refresh_customer_search,
    thread_a_send_would_join,
    thread_for_contact,
    unsaved_thread,
)
from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

__all__ = [
    "CannotSnooze",
    "ERASED_SUBJECT",
    "PREVIEW_LENGTH",
    "ConversationsErased",
    "InboundMessage",
    "MergeRefused",
    "MessageCreated",
    "MovedConversations",
    "ReplyCollision",
    "Sender",
    "ThreadAssigned",
    "ThreadChanged",
    "ThreadOpened",
    "UnknownSeenMessage",
    "advance_delivery",
    "announce_change",
    "assign",
    "call_answers_customer",
    "apply_delivery_report",
    "apply_delivery_reports",
    "channel_of_type",
    "erase_messages",
    "end_for_status_change",
    "erase_threads",
    "format_duration",
    "hold_senders",
    "kept_thread_of",
    "latest_message_id",
    "latest_open_thread",
    "log_call",
    "new_channel",
    "mark_read",
    "merge_pointer",
    "merge_refusal",
    "merge_threads",
    "merged_thread_ids",
    "move_conversations",
    "newer_than_seen",
    "note_message_language",
    "DETECT_JOB",
    "note_routing",
    "open_thread",
    "post_note",
    "post_outbound",
    "record_delivery",
    "record_inbound",
    "record_sent_elsewhere",
    "record_status_line",
    "redact_mentions",
    "refresh_customer_search",
    "snooze",
    "subject_from",
    "thread_a_send_would_join",
    "thread_for_contact",
    "touch",
    "unsaved_thread",
    "unsnooze",
    "wake_due_snoozes",
    "withdraw_outbound",
]

FEATURE = Feature(
    # The send job is queued by a listener of the owner's own MessageCreated.
    listeners=("app.conversations.core.sending",),
    periodic_jobs=(
        # Every 10 s: a send whose worker died, or whose job was lost, is taken
        # up again within its lease (PROCESSING_LEASE_SECONDS) plus 10 s.
        PeriodicJob(
            "stalled-sends",
            "app.conversations.core.sending.requeue_stalled_sends",
            every_seconds=10,
        ),
        # Every 5 s: a snoozed conversation is back in the lists within 5 s of its
        # time (one indexed range read when nothing is due).
        PeriodicJob(
            "snooze-wake", "app.conversations.core.snoozing.wake_due_snoozes", every_seconds=5
        ),
    ),
)
