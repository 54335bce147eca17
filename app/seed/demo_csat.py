"""Demo customer ratings: the survey after each resolved WhatsApp or e-mail conversation.

What the live survey (:mod:`app.conversations.csat`) leaves behind when a conversation is
resolved: the survey row (asked, or skipped for the quiet period), the question
in the conversation a minute after the resolution, and for about half of them
the customer's rating, with its line in the timeline. So every customer
satisfaction figure on the analytics page has a month of answers to show.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from app.conversations.csat.asking import ASKED, QUIET_PERIOD, SKIPPED
from app.conversations.csat.questions import EMAIL, WHATSAPP
from app.conversations.csat.tokens import rating_url
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CsatResponse
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus
from app.platform.system_texts import text, to_json
from app.seed.context import DEMO_SEED, DemoContext
from app.seed.demo_messages import email_html
from app.seed.demo_threads import ThreadInfo

SURVEYED = (ChannelType.WHATSAPP_BUSINESS, ChannelType.EMAIL_OUTLOOK)
RESOLVED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
# Of the resolutions: how many fall in a customer's quiet period, how many answer.
SKIPPED_SHARE, ANSWERED_SHARE = 0.12, 0.55
RATINGS = {5: 46, 4: 32, 3: 11, 2: 6, 1: 5}
COMMENTS = {
    5: ("Snel geholpen, top!", "Monteur was netjes en op tijd.", "Heel fijn contact via WhatsApp."),
    4: ("Goed geholpen, wel even moeten wachten.", "Prima, duidelijke uitleg."),
    3: ("Uiteindelijk opgelost, maar het duurde lang.",),
    2: ("Ik moest drie keer vragen voordat er iemand reageerde.",),
    1: ("Afspraak twee keer verzet zonder bericht.", "Nog steeds geen factuur ontvangen."),
}
# The question as the live survey words it in Dutch (app.conversations.csat.questions).
ASK_WHATSAPP = (
    "Bedankt voor uw contact met ons. Hoe tevreden bent u over onze hulp? "
    "Kies een cijfer van 1 tot 5."
)
ASK_EMAIL_SUBJECT = "Hoe tevreden bent u over onze hulp?"
ASK_EMAIL = (
    "Bedankt voor uw contact met ons. We horen graag hoe we het hebben gedaan.\n\n"
    "Geef ons hier een cijfer van 1 tot 5 (het kost maar een paar seconden): {url}"
)


def build_csat(ctx: DemoContext, infos: list[ThreadInfo]) -> tuple[int, int]:
    """Survey rows (and their messages) for the resolved customer conversations; returns
    how many customers answered and how many messages that wrote."""
    # A stream of its own, so the other builders' demo data stays as it was.
    rng = random.Random(DEMO_SEED + 33)  # noqa: S311 (demo data, not security)
    surveyed = {ctx.channels[kind].id: kind for kind in SURVEYED}
    rows, questions, lines = [], [], []
    for info in infos:
        thread = info.thread
        kind = surveyed.get(thread.channel_id)
        if (
            kind is None
            or thread.status not in RESOLVED
            or thread.resolved_at is None
            or info.last_incoming is None
        ):
            continue
        survey = CsatResponse(
            id=uuid.uuid4(),
            thread_id=thread.id,
            resolved_at=thread.resolved_at,
            contact_id=thread.contact_id,
            agent_id=thread.assigned_to_user_id,
            team_id=thread.assigned_team_id,
            channel_id=thread.channel_id,
            language="nl",
            created_at=thread.resolved_at,
            updated_at=thread.resolved_at,
        )
        rows.append(survey)
        if rng.random() < SKIPPED_SHARE:
            survey.state, survey.skip_reason = SKIPPED, QUIET_PERIOD
            continue
        survey.state = ASKED
        survey.asked_at = min(thread.resolved_at + timedelta(seconds=rng.randint(20, 120)), ctx.now)
        survey.ask_channel = WHATSAPP if kind == ChannelType.WHATSAPP_BUSINESS else EMAIL
        question = _question(ctx, info, survey)
        survey.message_id = question.id
        questions.append(question)
        answer_at = survey.asked_at + timedelta(minutes=rng.uniform(2, 20 * 60))
        if rng.random() >= ANSWERED_SHARE or answer_at >= ctx.now:
            continue
        rating = rng.choices(list(RATINGS), weights=list(RATINGS.values()))[0]
        comment = rng.choice(COMMENTS[rating]) if rng.random() < 0.35 else None
        survey.rating, survey.comment, survey.answered_at = rating, comment, answer_at
        survey.answer_channel = "whatsapp" if survey.ask_channel == WHATSAPP else "web"
        survey.updated_at = answer_at
        lines.append(_rating_line(info, survey))
    # The questions first (each survey row points at its own); alike rows together, so
    # each kind goes in one statement.
    db.session.add_all(questions)
    db.session.add_all(lines)
    db.session.flush()
    db.session.add_all(rows)
    db.session.flush()
    return len(lines), len(questions) + len(lines)


def _question(ctx: DemoContext, info: ThreadInfo, survey: CsatResponse) -> CommunicationMessage:
    """The survey's question, sent a minute after the resolution (the newest message)."""
    thread, at = info.thread, survey.asked_at
    # To the address the customer wrote from.
    customer_address = dict(info.last_incoming.sender_external or {})
    message = CommunicationMessage(
        id=uuid.uuid4(),
        thread_id=thread.id,
        channel_id=thread.channel_id,
        message_type=MessageType.AUTO_RESPONSE,
        created_at=at,
        updated_at=at,
        sent_at=at,
        delivered_at=at,
        delivery_status=DeliveryStatus.DELIVERED,
        recipient_external=customer_address,
        sender_external={},
        attachments=[],
        extra={"automation": "csat", "csat": str(survey.id)},
        subject=None,
        message_html=None,
    )
    if survey.ask_channel == WHATSAPP:
        message.message_content = ASK_WHATSAPP
    else:
        message.subject = ASK_EMAIL_SUBJECT
        message.message_content = ASK_EMAIL.format(url=rating_url(survey.id))
        message.message_html = email_html(message.message_content)
    # What the conversation's owner does with a newest message: it is the preview now.
    if at >= thread.last_message_at:
        thread.last_message_at = thread.updated_at = at
        thread.last_message_preview = " ".join(message.message_content.split())[:280]
    return message


def _rating_line(info: ThreadInfo, survey: CsatResponse) -> CommunicationMessage:
    """The timeline's "Customer rated 4/5" line, as the answer writes it."""
    line = (
        text("csat.rated_comment", rating=survey.rating, comment=survey.comment)
        if survey.comment
        else text("csat.rated", rating=survey.rating)
    )
    return CommunicationMessage(
        thread_id=info.thread.id,
        message_type=MessageType.SYSTEM_NOTIFICATION,
        sender_contact_id=survey.contact_id,
        message_content=line.english(),
        delivery_status=DeliveryStatus.DELIVERED,
        created_at=survey.answered_at,
        updated_at=survey.answered_at,
        attachments=[],
        sender_external={},
        recipient_external={},
        extra={"csat": str(survey.id), "system_text": to_json(line)},
    )
