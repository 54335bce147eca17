"""Sending our messages in the background, and the sandbox's simulated delivery.

Jobs take message ids. A worker claims a pending message with one conditional
``UPDATE`` that sets a lease (``PROCESSING_LEASE_SECONDS``): two jobs for one
message never both send it, and when a worker dies mid-send its lease runs out
and :func:`requeue_stalled_sends` (every 10 s) hands the message to another
worker, so a crash costs seconds. A send is at-least-once: a worker that dies
after the provider accepted the message but before the commit has it sent
again; the message row only ever moves forward.

The answers a batch of inbound events makes (out-of-hours, order status) go out
together: :func:`queue_send` holds them (:mod:`app.platform.jobs.coalescing`) and one job
sends them one after the other (:func:`send_messages`), each claimed and
committed as its own job would be. RQ's bookkeeping of a job (about a tenth of a
worker's time in a burst of new customers, one job per answer) is paid once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.conversations.attachments.storage import stored_file
from app.conversations.core.events import MessageCreated
from app.conversations.core.messages import record_delivery
from app.platform.database import utcnow, without_waiting_for_disk
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.jobs.coalescing import hold
from app.platform.jobs.queues import get_queue
from app.platform.jobs.turns import let_the_inbox_go_first
from app.platform.models import CommunicationMessage, CommunicationTemplate
from app.platform.models.enums import DeliveryStatus, MessageType
from app.platform.transactions import commit
from app.platform.transports.base import OutboundAttachment, OutboundMessage, TransportError
from app.platform.transports.registry import is_sandboxed, transport_for
from app.platform.transports.sandbox import SandboxTransport

log = logging.getLogger(__name__)

# Seconds before each new try of a send the provider refused for now (rate
# limit, time-out, 5xx); after the last one the message is marked failed.
RETRY_DELAYS: tuple[float, ...] = (5, 30, 120)
SEND_JOB = "app.conversations.core.sending.send_message"
SEND_BATCH_JOB = "app.conversations.core.sending.send_messages"
# How long an answer made in a batch of inbound events waits for others to go
# out with it: a customer does not notice a quarter of a second.
HOLD_SENDS_SECONDS = 0.25
MAX_SENDS_PER_JOB = 20
# Never claimed this long after it was written: its job was lost (Redis restarted).
UNCLAIMED_AFTER = timedelta(seconds=60)
# How early a scheduled retry's job may start (RQ's schedule has whole seconds).
MAX_EARLY_START_SECONDS = 2.0
OUTBOUND_TYPES = (MessageType.OUTGOING, MessageType.AUTO_RESPONSE)


FAILURE_TTL_SECONDS = 7 * 24 * 3600


def enqueue_send(message_id: uuid.UUID | str, *, delay: float = 0) -> None:
    options = {"job_timeout": _lease().total_seconds(), "failure_ttl": FAILURE_TTL_SECONDS}
    queue = get_queue("deliveries")
    if delay > 0:
        queue.enqueue_in(timedelta(seconds=delay), SEND_JOB, str(message_id), **options)
    else:
        queue.enqueue(SEND_JOB, str(message_id), **options)


@listens_to(MessageCreated)
def queue_send(event: MessageCreated) -> None:
    """Hand a new outbound message to the send job once it is committed."""
    if not event.queued_send:
        return
    delay = (event.send_at - utcnow()).total_seconds() if event.send_at else 0
    held = delay <= 0 and hold(
        "sends", enqueue_sends, str(event.message_id), within=HOLD_SENDS_SECONDS, linger=True
    )
    if not held:
        enqueue_send(event.message_id, delay=delay)


def enqueue_sends(message_ids: list[str]) -> None:
    """Queue sends held together: one job for up to ``MAX_SENDS_PER_JOB`` of them."""
    queue = get_queue("deliveries")
    for start in range(0, len(message_ids), MAX_SENDS_PER_JOB):
        chunk = message_ids[start : start + MAX_SENDS_PER_JOB]
        if len(chunk) == 1:
            enqueue_send(chunk[0])
            continue
        # Long enough for the batch's time budget and one send after it; a job
        # killed mid-way leaves the message it was on to its lease and the sweep.
        timeout = _lease().total_seconds() * 1.5
        queue.enqueue(SEND_BATCH_JOB, chunk, job_timeout=timeout, failure_ttl=FAILURE_TTL_SECONDS)


def send_messages(message_ids: list[str]) -> dict[str, int]:
    """Send messages one after the other, each exactly as its own job would.

    A send that fails in a way the send itself does not handle (the database
    gone) goes to a job of its own, with the queue's failure registry; past half
    the lease the rest do too, so none starts after its job could be timed out.
    Between two sends the process's inbox consumer goes first if it has events
    in hand (one job holding the process for a batch of sends held customers'
    messages back: p50 from 80 to 480 ms at 50 new customers a second).
    Returns how many ended each way.
    """
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    budget = _lease().total_seconds() / 2
    with _progress_together():
        _send_in_turn(message_ids, outcomes, started, budget)
    return dict(outcomes)


def _send_in_turn(message_ids: list[str], outcomes: Counter, started: float, budget: float) -> None:
    for position, message_id in enumerate(message_ids):
        if position and time.monotonic() - started > budget:
            for rest in message_ids[position:]:
                enqueue_send(rest)
            outcomes["handed on"] += len(message_ids) - position
            break
        if position:
            # New customers' messages waiting in this process go before the rest.
            let_the_inbox_go_first()
        try:
            outcomes["sent" if send_message(message_id) else "not sent"] += 1
        except Exception:
            db.session.rollback()
            log.exception("message %s could not be sent in its batch", message_id)
            enqueue_send(message_id)
            outcomes["requeued"] += 1
        finally:
            # A fresh session per message, as a job of its own would have.
            db.session.remove()


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["PROCESSING_LEASE_SECONDS"])


def _claim(message_id: uuid.UUID) -> bool:
    """Take the message for this worker until the lease runs out; False if not ours."""
    now = utcnow()
    claimed = db.session.execute(
        _claim_statement(db.session.get_bind().dialect.name),
        {"message_id": message_id, "now": now, "lease_until": now + _lease()},
    ).rowcount
    commit()
    return claimed == 1


def _load(message_id: str) -> CommunicationMessage | None:
    return db.session.scalar(_LOAD, {"message_id": uuid.UUID(message_id)})


# Built once per process, the claim on the table (an ORM UPDATE went through the
# ORM's bulk-update handling and worked out its cache key on every send).
MESSAGES = CommunicationMessage.__table__


@functools.cache
def _claim_statement(dialect: str) -> sa.Update:
    # Its commit does not wait for the disk: other workers see the lease at once,
    # and a claim a database crash takes back leaves the message to the sweep.
    return without_waiting_for_disk(_CLAIM, dialect)


_CLAIM = (
    sa.update(MESSAGES)
    .where(
        MESSAGES.c.id == sa.bindparam("message_id"),
        MESSAGES.c.delivery_status == DeliveryStatus.PENDING,
        sa.or_(
            MESSAGES.c.send_lease_expires_at.is_(None),
            MESSAGES.c.send_lease_expires_at < sa.bindparam("now"),
        ),
        # A reply held for Undo is not taken before its hold ends; taking it
        # clears the hold, which is what makes a late Undo find nothing.
        sa.or_(
            MESSAGES.c.send_held_until.is_(None),
            MESSAGES.c.send_held_until <= sa.bindparam("now"),
        ),
    )
    .values(send_lease_expires_at=sa.bindparam("lease_until"), send_held_until=None)
)
_LOAD = (
    sa.select(CommunicationMessage)
    .where(CommunicationMessage.id == sa.bindparam("message_id"))
    .options(
        so.joinedload(CommunicationMessage.thread),
        so.joinedload(CommunicationMessage.channel),
    )
    .execution_options(populate_existing=True)
)


def _waited_for_retry(message_id: uuid.UUID) -> bool:
    """A retry's job may start up to a second early (RQ schedules in whole seconds):
    wait out the rest of its own lease instead of finding the message taken. True
    when it waited (then the claim is worth asking again)."""
    lease = db.session.scalar(
        sa.select(CommunicationMessage.send_lease_expires_at).where(
            CommunicationMessage.id == message_id,
            CommunicationMessage.delivery_status == DeliveryStatus.PENDING,
        )
    )
    db.session.rollback()  # hold no transaction open while waiting
    if lease is None:
        return False
    wait = (lease - utcnow()).total_seconds()
    if wait > MAX_EARLY_START_SECONDS:
        return False  # another worker's lease: it is sending
    if wait > 0:
        time.sleep(wait + 0.01)
    return True  # (or the lease ran out between the claim and this read)


def send_message(message_id: str) -> str | None:
    """Hand a pending outbound message to its channel's transport."""
    ident = uuid.UUID(message_id)
    # The claim first: only a retry that started early finds its own lease in the way.
    if not _claim(ident) and not (_waited_for_retry(ident) and _claim(ident)):
        log.info("message %s is not pending or another worker sends it", message_id)
        return None
    message = _load(message_id)
    channel_type = message.channel.channel_type.value
    recipient = message.recipient_external.get("phone") or message.recipient_external.get("email")
    extra = message.extra or {}
    # A message goes out as an approved WhatsApp template when whoever wrote it
    # stored the template's parameters (compose_reply past the 24-hour window,
    # the order-status auto-reply, the external send API, which may also name
    # the approved template itself); otherwise its text is sent as written, and
    # the template it was written from (an out-of-hours answer's) is not read.
    as_template = "template_parameters" in extra
    template_name = extra.get("template_name")
    if as_template and not template_name and message.template_id:
        template = db.session.get(CommunicationTemplate, message.template_id)
        template_name = template.whatsapp_template_name if template else None
    as_template = as_template and bool(template_name)
    addressees = message.recipient_external
    try:
        attachments = _attachments_of(message)
    except FileNotFoundError as exc:
        # Stored with the message in one transaction: a missing file is a lost
        # disk, and sending the message without it would mislead the customer.
        log.error("message %s not sent: %s", message_id, exc)
        message.send_lease_expires_at = None
        record_delivery(message, DeliveryStatus.FAILED, str(exc))
        commit()
        return None
    outbound = OutboundMessage(
        message_id=message.id,
        channel_type=channel_type,
        recipient=recipient,
        body=message.message_content,
        subject=message.subject,
        html=message.message_html,
        reply_to_external_id=extra.get("reply_to"),
        template_name=template_name if as_template else None,
        template_parameters=list(extra.get("template_parameters") or []) if as_template else [],
        template_language=extra.get("template_language") if as_template else None,
        template_quick_replies=(
            list(extra.get("template_quick_replies") or []) if as_template else []
        ),
        to=tuple(addressees.get("to") or ()),
        cc=tuple(addressees.get("cc") or ()),
        bcc=tuple(addressees.get("bcc") or ()),
        attachments=attachments,
        interactive=extra.get("interactive"),
        channel_id=message.channel_id,
    )
    transport = transport_for(channel_type)
    try:
        result = transport.send(outbound)
    except TransportError as exc:
        message.send_lease_expires_at = None
        attempt = int(extra.get("send_attempts") or 0) + 1
        message.extra = {**extra, "send_attempts": attempt}
        if exc.retryable and attempt <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[attempt - 1]
            log.warning("send of message %s failed, retry in %ss: %s", message_id, delay, exc)
            # The lease stands until the retry is due, so the sweeper leaves it
            # to the scheduled job (and takes over only if that job is lost).
            message.send_lease_expires_at = utcnow() + timedelta(seconds=delay)
            # Keep what the transport noted about the provider's health too.
            commit()
            enqueue_send(message.id, delay=delay)
            return None
        record_delivery(message, DeliveryStatus.FAILED, str(exc))
        # commit() runs what the transport queued for after the commit (admin alerts).
        commit()
        return None
    message.external_message_id = result.external_message_id
    message.send_lease_expires_at = None
    record_delivery(message, DeliveryStatus(result.status))
    commit()
    if is_sandboxed(channel_type):
        _schedule_simulated_progress(message.id, channel_type)
    return result.external_message_id


def _attachments_of(message: CommunicationMessage) -> tuple[OutboundAttachment, ...]:
    """The message's stored files, as the transport reads them (never the upload itself)."""
    found = []
    for entry in message.attachments or []:
        path = stored_file(entry) if isinstance(entry, dict) else None
        if path is None:
            name = entry.get("filename") if isinstance(entry, dict) else entry
            raise FileNotFoundError(f"the attached file {name} is missing from storage")
        found.append(OutboundAttachment(entry["filename"], entry["mime_type"], str(path)))
    return tuple(found)


_sandbox_progress = threading.local()


@contextlib.contextmanager
def _progress_together() -> Iterator[None]:
    """The sandbox's simulated ticks of a batch of sends, scheduled together at its
    end: one job per step for the batch (:func:`record_delivery_statuses`), where one
    job per message and step made two more jobs for every answer of a burst."""
    _sandbox_progress.pending = pending = {}
    try:
        yield
    finally:
        _sandbox_progress.pending = None
        for channel_type, message_ids in pending.items():
            _schedule_progress(message_ids, channel_type)


def _schedule_simulated_progress(message_id: uuid.UUID, channel_type: str) -> None:
    pending = getattr(_sandbox_progress, "pending", None)
    if pending is not None:
        pending.setdefault(channel_type, []).append(str(message_id))
    else:
        _schedule_progress([str(message_id)], channel_type)


def _schedule_progress(message_ids: list[str], channel_type: str) -> None:
    queue = get_queue("deliveries")
    step_seconds = current_app.config["SANDBOX_DELIVERY_STEP_SECONDS"]
    for step, status in enumerate(SandboxTransport.simulated_progress(channel_type), start=1):
        queue.enqueue_in(
            timedelta(seconds=step_seconds * step),
            "app.conversations.core.sending.record_delivery_statuses",
            message_ids,
            status,
        )


def record_delivery_statuses(message_ids: list[str], status: str) -> int:
    """Apply one simulated status to many messages in one transaction (sandbox);
    returns how many moved on."""
    messages = db.session.scalars(
        sa.select(CommunicationMessage)
        .where(CommunicationMessage.id.in_([uuid.UUID(m) for m in message_ids]))
        .order_by(CommunicationMessage.id)
        .with_for_update()
    ).all()
    changed = sum(record_delivery(message, DeliveryStatus(status)) for message in messages)
    commit()
    return changed


def record_delivery_status(message_id: str, status: str, error: str | None = None) -> bool:
    """Apply a delivery status report (sandbox simulation)."""
    message = _load(message_id)
    if message is None:
        return False
    changed = record_delivery(message, DeliveryStatus(status), error)
    commit()
    return changed


def requeue_stalled_sends() -> int:
    """Periodic job: send again what a dead worker held, or what lost its job."""
    now = utcnow()
    stalled = db.session.scalars(
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.delivery_status == DeliveryStatus.PENDING,
            CommunicationMessage.message_type.in_(OUTBOUND_TYPES),
            CommunicationMessage.channel_id.is_not(None),
            # Transactional mail is sent, and re-sent, by its own delivery job.
            sa.func.coalesce(CommunicationMessage.extra["provider"].as_string(), "") != "sendgrid",
            sa.or_(
                CommunicationMessage.send_lease_expires_at < now,
                sa.and_(
                    CommunicationMessage.send_lease_expires_at.is_(None),
                    CommunicationMessage.created_at < now - UNCLAIMED_AFTER,
                    # Younger than a day: older ones wait for a person, not a sweep.
                    CommunicationMessage.created_at > now - timedelta(days=1),
                ),
            ),
        )
        .limit(500)
    ).all()
    db.session.rollback()
    for message_id in stalled:
        enqueue_send(message_id)
    if stalled:
        log.warning("re-queued %d stalled message sends", len(stalled))
    return len(stalled)
