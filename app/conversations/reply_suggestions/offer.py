"""The suggestions the composer shows above the reply box, filled in as the thread is now.

The set was ranked when a composer first showed the customer's message
(:func:`suggestions_due`, then ``rank_latest``); here it is only read (two
indexed queries) and filled in through the templates' variable code, so a visit
moved since then shows its new date. Past WhatsApp's 24-hour window
the ``approved`` set is shown (approved templates, chosen in the template
select as the window requires); otherwise the ``open`` one. Once an agent has
replied to that message, or the customer wrote again since, nothing is shown; nor
is a chip that says what was already written to the customer in this conversation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.message_templates.rendering import template_inputs
from app.conversations.reply_suggestions.compute import APPROVED, OPEN, unranked_message
from app.conversations.reply_suggestions.placeholders import title_of, without_greeting
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    ReplySuggestion,
    SuggestionOutcome,
    SuggestionSet,
    User,
)
from app.platform.models.enums import ChannelType, MessageType, Role

DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class OfferedSuggestion:
    """One chip: its title, the text it puts into the reply box, and how.

    ``approved``: an approved WhatsApp template past the window, chosen in the
    template select (its text cannot be edited); otherwise ``text`` goes into
    the box. ``missing``: the human names of values the agent must still fill in.
    ``message_id``: the customer message it answers.
    """

    id: uuid.UUID
    message_id: uuid.UUID
    rank: int
    title: str
    text: str
    preview: str  # the text from its first words after the greeting
    kind: str
    template_id: uuid.UUID | None
    approved: bool
    missing: tuple[str, ...] = ()


def latest_set(thread: CommunicationThread, set_name: str) -> SuggestionSet | None:
    """The set of the thread's latest customer message, if it is still unanswered."""
    latest_customer_message = (
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.INCOMING,
        )
        .order_by(CommunicationMessage.created_at.desc(), CommunicationMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered = sa.select(SuggestionOutcome.id).where(
        SuggestionOutcome.message_id == SuggestionSet.message_id
    )
    return db.session.scalar(
        sa.select(SuggestionSet)
        .options(so.selectinload(SuggestionSet.suggestions).joinedload(ReplySuggestion.template))
        .where(
            SuggestionSet.thread_id == thread.id,
            SuggestionSet.message_id == latest_customer_message,
            SuggestionSet.set_name == set_name,
            ~answered.exists(),
        )
    )


def offered_suggestions(
    thread: CommunicationThread,
    channel: CommunicationChannel | None,
    agent: User | None,
    *,
    window_closed: bool = False,
) -> list[OfferedSuggestion]:
    """The chips for ``thread`` answered on ``channel`` (the composer's selected one).

    ``window_closed``: WhatsApp's 24-hour window has closed on that channel.
    """
    if not shows_suggestions(channel, agent):
        return []
    approved_only = window_closed and channel.channel_type == ChannelType.WHATSAPP_BUSINESS
    found = latest_set(thread, APPROVED if approved_only else OPEN)
    if found is None:
        return []
    said = _said_already(thread)
    offered = []
    for suggestion in found.suggestions:
        chip = _filled(suggestion, found.message_id, thread, agent, approved_only)
        if chip is not None and not _repeats(chip.text, said):
            offered.append(chip)
    return offered


def shows_suggestions(channel: CommunicationChannel | None, agent: User | None) -> bool:
    """A composer on ``channel`` shows chips to ``agent`` (a technician's phone has its
    own quick replies)."""
    return channel is not None and (agent is None or agent.role in DESK_ROLES)


def suggestions_due(
    thread: CommunicationThread, channel: CommunicationChannel | None, agent: User | None
) -> bool:
    """The composer would show chips for the customer's latest message, but none are
    ranked yet: it asks for them in a request of their own (``rank_latest``)."""
    return shows_suggestions(channel, agent) and unranked_message(thread) is not None


# How far back a conversation's own answers are compared with the chips.
SAID_MESSAGES = 50
# A shorter chip ("Graag gedaan!") may well be said twice in one conversation.
REPEAT_MIN_CHARACTERS = 20


def _plain(text: str) -> str:
    return " ".join(without_greeting(text).lower().split())


def _repeats(text: str, said: set[str]) -> bool:
    """The chip's words (greeting aside) are in an answer already sent (its sign-off and
    signature around them)."""
    plain = _plain(text)
    return len(plain) >= REPEAT_MIN_CHARACTERS and any(plain in earlier for earlier in said)


def _said_already(thread: CommunicationThread) -> set[str]:
    """What we wrote to this customer in this conversation, greeting aside: a chip that
    says it again ("I have just sent the invoice", sent two days ago) is no answer."""
    sent = db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(SAID_MESSAGES)
    )
    return {_plain(text) for text in sent if text}


def suggestion_text(
    suggestion: ReplySuggestion, thread: CommunicationThread, agent: User | None
) -> str | None:
    """The suggestion's text filled in for ``thread`` now (None: its template is gone)."""
    template = _as_template(suggestion)
    if template is None:
        return None
    return template_inputs(template, thread, agent).draft.body


def _as_template(suggestion: ReplySuggestion) -> CommunicationTemplate | None:
    if suggestion.kind == "template":
        template = suggestion.template
        return template if template is not None and template.is_active else None
    # A harvested reply is filled in as a template of one text, never stored as one.
    return CommunicationTemplate(
        template_name="harvested-reply",
        message_template=suggestion.body or "",
        language=suggestion.language,
        variables=[],
    )


def _filled(
    suggestion: ReplySuggestion,
    message_id: uuid.UUID,
    thread: CommunicationThread,
    agent: User | None,
    approved_only: bool,
) -> OfferedSuggestion | None:
    template = _as_template(suggestion)
    if template is None:
        return None
    state = template_inputs(template, thread, agent)
    text = state.draft.body.strip()
    title = template.display_name if suggestion.kind == "template" else title_of(text)
    return OfferedSuggestion(
        id=suggestion.id,
        message_id=message_id,
        rank=suggestion.rank,
        title=title,
        text=text,
        preview=without_greeting(text),
        kind=suggestion.kind,
        template_id=suggestion.template_id,
        approved=approved_only and suggestion.kind == "template",
        missing=tuple(state.missing_labels),
    )
