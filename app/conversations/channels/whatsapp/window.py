"""WhatsApp's 24-hour customer-service window.

A business may send free text to a WhatsApp user only within 24 hours of that
user's last message; after that only approved templates go through (Meta
answers 131047 otherwise). The window belongs to the customer, not to one
thread, so the latest incoming WhatsApp message of the thread or of its
contact counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationMessage, CommunicationThread
from app.platform.models.enums import ChannelType, MessageType
from app.platform.ui import local_time

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WindowState:
    """Whether free text may be sent now, and when that ends (or ended)."""

    is_open: bool
    closes_at: datetime | None

    @property
    def last_customer_message_at(self) -> datetime | None:
        return self.closes_at - WINDOW if self.closes_at else None


def service_window(thread: CommunicationThread, now: datetime | None = None) -> WindowState:
    """The window for replying on WhatsApp in ``thread`` at ``now``."""
    now = now or utcnow()
    last = _latest_incoming(thread)
    if last is None:
        return WindowState(is_open=False, closes_at=None)
    closes_at = last + WINDOW
    return WindowState(is_open=now < closes_at, closes_at=closes_at)


def _latest_incoming(thread: CommunicationThread) -> datetime | None:
    def latest(condition) -> datetime | None:
        return db.session.scalar(
            sa.select(sa.func.max(CommunicationMessage.created_at))
            .join(CommunicationChannel, CommunicationChannel.id == CommunicationMessage.channel_id)
            .where(
                condition,
                CommunicationMessage.message_type == MessageType.INCOMING,
                CommunicationChannel.channel_type == ChannelType.WHATSAPP_BUSINESS,
            )
        )

    # Two indexed lookups rather than one OR, which would scan.
    found = [latest(CommunicationMessage.thread_id == thread.id)]
    if thread.contact_id is not None:
        found.append(latest(CommunicationMessage.sender_contact_id == thread.contact_id))
    found = [value for value in found if value is not None]
    return max(found) if found else None


def closed_refusal(state: WindowState) -> str:
    """Why free text is refused, for the composer's and the API's error."""
    if state.closes_at is None:
        return _(
            "This customer has not written on WhatsApp yet, so WhatsApp only allows an "
            "approved template — send an approved template instead."
        )
    return _(
        "The 24-hour WhatsApp window closed at %(time)s — send an approved template instead.",
        time=local_time(state.closes_at),
    )


def closed_notice(state: WindowState, now: datetime | None = None) -> str:
    """The composer's plain-words explanation of a closed window."""
    if state.last_customer_message_at is None:
        return _(
            "No WhatsApp message from this customer yet — "
            "WhatsApp only allows approved templates now"
        )
    delta = (now or utcnow()) - state.last_customer_message_at
    if delta.days >= 1:
        return ngettext(
            "Last customer message %(num)d day ago — WhatsApp only allows approved templates now",
            "Last customer message %(num)d days ago — WhatsApp only allows approved templates now",
            delta.days,
        )
    return ngettext(
        "Last customer message %(num)d hour ago — WhatsApp only allows approved templates now",
        "Last customer message %(num)d hours ago — WhatsApp only allows approved templates now",
        delta.seconds // 3600,
    )
