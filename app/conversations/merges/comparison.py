"""Two contacts side by side before a merge, so a person can tell them apart.

Two customers called "Jan de Vries" are common; merging them by mistake gives
one customer the other's conversations and orders. The preview therefore puts
what tells people apart next to each other: phone numbers, e-mail addresses,
organization, address and the last conversation (when, on which channel, its
first words), and says so plainly when the names are (nearly) the same. Then
every sentence naming them names each with what tells it from the other
(:func:`told_apart`): "Merge Sara de Jong (+31687105940) into Sara de Jong
(+31608620251)?", not the same name twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.inbox.access import visible_threads_clause
from app.conversations.merges.contacts import (
    ContactMergeRefused,
    may_merge_contacts,
    merge_refusal_reason,
)
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.extensions import db
from app.platform.models import Address, CommunicationThread, Contact, ContactIdentity, User
from app.platform.ui import local_time

# "Jan de Vries" and "Jan de Vries." or "Jan de Vriess": nearly the same name.
SIMILAR_NAMES = 0.85
FIRST_WORDS = 12
NOT_ALL_CONVERSATIONS = _l(
    "Only someone who may open every conversation of this contact may merge it: "
    "some are another team's. Ask your team lead or a manager."
)


@dataclass
class LastConversation:
    thread: CommunicationThread
    at: datetime
    first_words: str


@dataclass
class ContactSide:
    """What tells one contact apart from the other."""

    contact: Contact
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    organization: str | None = None
    address: str | None = None
    conversations: int = 0
    last_conversation: LastConversation | None = None


def same_name(first: str | None, second: str | None) -> bool:
    """Whether two display names are the same or nearly (case, accents, dots, a typo)."""
    a, b = _plain(first), _plain(second)
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= SIMILAR_NAMES


def told_apart(first: Contact, second: Contact) -> tuple[str, str]:
    """The two contacts' names for the merge's sentences, each with what tells it apart
    when the names are (nearly) the same: a phone number or e-mail address the other
    lacks, else the day (and time) each was created."""
    if not same_name(first.display_name, second.display_name):
        return first.display_name, second.display_name
    for one, other in (
        (first.phone, second.phone),
        (first.email, second.email),
        (first.phone or first.email, second.phone or second.email),
    ):
        if one and other and one.casefold() != other.casefold():
            return (
                _("%(name)s (%(detail)s)", name=first.display_name, detail=one),
                _("%(name)s (%(detail)s)", name=second.display_name, detail=other),
            )
    layout = "%d %b %Y"
    if local_time(first.created_at, layout) == local_time(second.created_at, layout):
        layout = "%d %b %Y %H:%M"

    def created(contact: Contact) -> str:
        when = local_time(contact.created_at, layout)
        return _("%(name)s (created %(date)s)", name=contact.display_name, date=when)

    return created(first), created(second)


def contact_side(contact: Contact, viewer: User) -> ContactSide:
    """One column of the comparison, with only the conversations ``viewer`` may open."""
    side = ContactSide(contact)
    for kind, address in db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.address)
        .where(ContactIdentity.contact_id == contact.id)
        .order_by(ContactIdentity.created_at)
    ):
        _add(side.phones if kind != "email" else side.emails, address)
    _add(side.phones, contact.phone)
    _add(side.emails, (contact.email or "").lower() or None)
    side.organization = contact.organization.name if contact.organization else None
    address = db.session.scalar(
        sa.select(Address).where(Address.contact_id == contact.id).order_by(Address.id).limit(1)
    )
    side.address = address.one_line() if address else None
    threads = sa.select(CommunicationThread).where(CommunicationThread.contact_id == contact.id)
    visible = visible_threads_clause(viewer)
    if visible is not None:
        threads = threads.where(visible)
    side.conversations = db.session.scalar(
        sa.select(sa.func.count()).select_from(threads.subquery())
    )
    last = db.session.scalar(
        threads.options(so.joinedload(CommunicationThread.channel))
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )
    if last is not None:
        words = (last.last_message_preview or "").split()
        text = " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")
        side.last_conversation = LastConversation(last, last.last_message_at, text)
    return side


def preview_refusal(viewer: User, kept: Contact, merged: Contact) -> str | None:
    """Why the confirm button is disabled for ``viewer``, in words; None when they may merge."""
    reason = merge_refusal_reason(viewer, kept, merged)
    return ContactMergeRefused(reason).message if reason else None


def _add(values: list[str], value: str | None) -> None:
    if value and value not in values:
        values.append(value)


def _plain(name: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", name or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", letters.casefold()).split())


def contact_merge_refusal(viewer: User, contact: Contact) -> str | None:
    """Why ``viewer`` cannot merge ``contact`` with anyone, in words, before they try; or None.

    Agents and team leads who may not open all of the contact's conversations
    cannot merge it with any other contact (see the package doc).
    """
    if viewer.role not in STAFF_DESK_ROLES:
        return ContactMergeRefused("not_desk").message
    if not may_merge_contacts(viewer, contact):
        return str(NOT_ALL_CONVERSATIONS)
    return None
