"""Deciding whether, and how, to ask for a rating when a conversation is resolved.

:func:`ask_rating` is the job queued after the commit that resolved a thread
(and by :func:`ask_missed`, the sweep for resolutions whose job was lost). It
writes the survey row *before* anything goes out, in the same transaction as the
question's outbound message, so:

* the unique key on (thread, resolution moment) lets one job win when duplicate
  events, a retried job or two workers take the same resolution;
* the customer's contact row is locked while deciding, so two of their
  conversations resolved at once still honour the quiet period;
* a worker killed after the commit leaves a pending outbound message, which the
  send job's lease and the stalled-send sweep deliver (:mod:`app.conversations.core`).

The question goes out on WhatsApp only inside the customer's 24-hour window
(Meta refuses free-form messages after it); otherwise, or for an e-mail
conversation, as an e-mail with a link, if the customer has an address.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.conversations.channels.whatsapp.window import service_window
from app.conversations.csat.questions import EMAIL, WHATSAPP, customer_language, post_question
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationChannel, CommunicationThread, Contact, CsatResponse
from app.platform.models.enums import ChannelType, ThreadStatus
from app.platform.transactions import commit

log = logging.getLogger(__name__)

ASK_JOB = "app.conversations.csat.asking.ask_rating"
RESOLVED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
SURVEYED_CHANNELS = (ChannelType.WHATSAPP_BUSINESS, ChannelType.EMAIL_OUTLOOK)
# A resolution older than this is no longer asked about (the moment has passed).
ASK_WITHIN = timedelta(hours=24)
# How long the sweep leaves a fresh resolution to the job its commit queued.
SWEEP_AFTER = timedelta(seconds=60)
ASKED, SKIPPED = "asked", "skipped"
QUIET_PERIOD, NO_ADDRESS, OTHER_OPEN = "quiet_period", "no_address", "other_open"
CUSTOMER_CHANNELS = (*SURVEYED_CHANNELS, ChannelType.SMS)


def enqueue_ask(thread_id: uuid.UUID | str) -> None:
    enqueue(ASK_JOB, str(thread_id))


def survey_due(thread: CommunicationThread, now: datetime | None = None) -> bool:
    """Whether the thread's current resolution is one to ask the customer about.

    Only conversations a customer started or wrote in (not a mail we sent on our
    own), on WhatsApp or e-mail, resolved within :data:`ASK_WITHIN`.
    """
    now = now or utcnow()
    return bool(
        current_app.config["CSAT_ENABLED"]
        and thread.status in RESOLVED
        and thread.resolved_at is not None
        and now - thread.resolved_at < ASK_WITHIN
        and thread.contact_id is not None
        and thread.last_customer_message_at is not None
        and thread.channel is not None
        and thread.channel.channel_type in SURVEYED_CHANNELS
    )


def already_decided(thread: CommunicationThread) -> bool:
    """Whether this resolution has its survey row (asked or skipped) already."""
    return (
        db.session.scalar(
            sa.select(CsatResponse.id).where(
                CsatResponse.thread_id == thread.id,
                CsatResponse.resolved_at == thread.resolved_at,
            )
        )
        is not None
    )


def ask_rating(thread_id: str) -> str | None:
    """Job: ask about the thread's current resolution once; the survey's id, or None."""
    now = utcnow()
    thread = db.session.get(CommunicationThread, uuid.UUID(thread_id), populate_existing=True)
    if thread is None or not survey_due(thread, now):
        db.session.rollback()
        return None
    # One customer's resolutions are decided one at a time: the quiet period
    # below reads what the other worker may be writing.
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == thread.contact_id).with_for_update()
    )
    if contact is None or contact.erased_at is not None or already_decided(thread):
        db.session.rollback()
        return None
    response = CsatResponse(
        thread_id=thread.id,
        resolved_at=thread.resolved_at,
        contact_id=contact.id,
        agent_id=thread.assigned_to_user_id,
        team_id=thread.assigned_team_id,
        channel_id=thread.channel_id,
        language=customer_language(contact),
    )
    decide(response, thread, contact, now)
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        # Another job wrote this resolution's row first; it asks, not us.
        db.session.rollback()
        return None
    if response.state == ASKED:
        response.message_id = post_question(thread, contact, response).id
    commit()
    log.info("csat %s for thread %s: %s", response.id, thread_id, response.skip_reason or "asked")
    return str(response.id)


def decide(response: CsatResponse, thread: CommunicationThread, contact: Contact, now) -> None:
    """Fill in whether the customer is asked, and how (or why not)."""
    if asked_recently(contact.id, now):
        response.state, response.skip_reason = SKIPPED, QUIET_PERIOD
        return
    if other_conversation_open(thread, contact.id):
        # Still waiting on us elsewhere (or this one was merged into another):
        # asked when that one is resolved instead.
        response.state, response.skip_reason = SKIPPED, OTHER_OPEN
        return
    route = ask_channel(thread, contact, now)
    if route is None:
        response.state, response.skip_reason = SKIPPED, NO_ADDRESS
        return
    response.state, response.ask_channel, response.asked_at = ASKED, route, now


def asked_recently(contact_id: uuid.UUID, now: datetime) -> bool:
    """Whether the customer was asked within the last ``CSAT_QUIET_DAYS``."""
    since = now - timedelta(days=current_app.config["CSAT_QUIET_DAYS"])
    return (
        db.session.scalar(
            sa.select(CsatResponse.id)
            .where(
                CsatResponse.contact_id == contact_id,
                CsatResponse.state == ASKED,
                CsatResponse.asked_at > since,
            )
            .limit(1)
        )
        is not None
    )


def other_conversation_open(thread: CommunicationThread, contact_id: uuid.UUID) -> bool:
    """Whether the customer has another conversation with us that is not resolved."""
    return (
        db.session.scalar(
            sa.select(CommunicationThread.id)
            .join(CommunicationChannel, CommunicationChannel.id == CommunicationThread.channel_id)
            .where(
                CommunicationThread.contact_id == contact_id,
                CommunicationThread.id != thread.id,
                CommunicationThread.status.not_in(RESOLVED),
                CommunicationChannel.channel_type.in_(CUSTOMER_CHANNELS),
            )
            .limit(1)
        )
        is not None
    )


def ask_channel(thread: CommunicationThread, contact: Contact, now: datetime) -> str | None:
    """WhatsApp inside the 24-hour window, else e-mail; None when neither reaches them."""
    whatsapp = thread.channel.channel_type == ChannelType.WHATSAPP_BUSINESS
    if whatsapp and contact.phone and service_window(thread, now).is_open:
        return WHATSAPP
    if (contact.email or "").strip():
        return EMAIL
    return None


def ask_missed() -> int:
    """Periodic job: queue the ask of recent resolutions that have no survey row yet."""
    now = utcnow()
    if not current_app.config["CSAT_ENABLED"]:
        return 0
    decided = sa.exists().where(
        CsatResponse.thread_id == CommunicationThread.id,
        CsatResponse.resolved_at == CommunicationThread.resolved_at,
    )
    missed = db.session.scalars(
        sa.select(CommunicationThread.id)
        .join(CommunicationChannel, CommunicationChannel.id == CommunicationThread.channel_id)
        .join(Contact, Contact.id == CommunicationThread.contact_id)
        .where(
            CommunicationThread.status.in_(RESOLVED),
            CommunicationThread.resolved_at > now - ASK_WITHIN,
            CommunicationThread.resolved_at < now - SWEEP_AFTER,
            CommunicationThread.last_customer_message_at.is_not(None),
            CommunicationChannel.channel_type.in_(SURVEYED_CHANNELS),
            Contact.erased_at.is_(None),  # an erased customer is asked nothing
            ~decided,
        )
        .limit(500)
    ).all()
    db.session.rollback()
    for thread_id in missed:
        enqueue_ask(thread_id)
    if missed:
        log.warning("queued the rating question of %d resolutions whose job was lost", len(missed))
    return len(missed)
