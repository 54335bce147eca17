"""Demo phone calls (issue 16.11): calls agents logged on customer conversations.

Written through the conversation's owner (:func:`app.conversations.log_call`)
like a call an agent logs, after each thread's own messages and before now,
so the timeline, the inbox preview and the analytics calls card have some.
"""

from __future__ import annotations

import random
from datetime import timedelta

from app.conversations import log_call
from app.models.enums import CallDirection, CallOutcome, ChannelType, ThreadStatus, ThreadType
from app.seed.context import DEMO_SEED, DemoContext
from app.seed.demo_threads import ThreadInfo

CALL_COUNT = 24
# (direction, outcome, seconds from–to, notes)
CALLS = [
    (CallDirection.OUTBOUND, CallOutcome.REACHED, (90, 420), "Klant gebeld, bezoek ingepland."),
    (CallDirection.OUTBOUND, CallOutcome.REACHED, (60, 300), "Offerte telefonisch toegelicht."),
    (
        CallDirection.INBOUND,
        CallOutcome.REACHED,
        (120, 600),
        "Klant belde met een vraag, meteen beantwoord.",
    ),
    (CallDirection.OUTBOUND, CallOutcome.NO_ANSWER, (0, 0), ""),
    (CallDirection.OUTBOUND, CallOutcome.VOICEMAIL, (15, 40), "Voicemail ingesproken."),
    (
        CallDirection.INBOUND,
        CallOutcome.CALLBACK_REQUESTED,
        (20, 60),
        "Wil morgen teruggebeld worden.",
    ),
    (CallDirection.OUTBOUND, CallOutcome.WRONG_NUMBER, (5, 20), "Nummer klopt niet."),
]


def build_calls(ctx: DemoContext, infos: list[ThreadInfo]) -> int:
    """Log :data:`CALL_COUNT` calls on open customer threads; return how many."""
    # A stream of its own, so the other builders' demo data stays as it was.
    rng = random.Random(DEMO_SEED + 16)  # noqa: S311 (demo data, not security)
    customer_threads = [
        info
        for info in infos
        if info.thread.channel_id
        in (
            ctx.channels[kind].id
            for kind in (ChannelType.EMAIL_OUTLOOK, ChannelType.WHATSAPP_BUSINESS)
        )
        and info.thread.thread_type != ThreadType.INTERNAL_TASK
        and info.thread.status != ThreadStatus.CLOSED
        and info.thread.contact_id is not None
        # A call answers the customer: leave the ones near or past their deadline
        # waiting, as the morning's story has them (app.seed.demo_sla).
        and not (info.thread.response_due_at and (info.thread.sla_stage or 0) >= 1)
    ]
    agents = ctx.team_members("customer-service") or [ctx.user("agent")]
    chosen = rng.sample(customer_threads, min(CALL_COUNT, len(customer_threads)))
    for info in chosen:
        direction, outcome, (shortest, longest), notes = rng.choice(CALLS)
        thread = info.thread
        agent = thread.assigned_to or rng.choice(agents)
        # After the thread's last message, and never in the future.
        room = max((ctx.now - thread.last_message_at).total_seconds() - 60, 0)
        at = thread.last_message_at + timedelta(seconds=rng.uniform(0, room) if room else 0)
        log_call(
            thread,
            agent_id=agent.id,
            direction=direction,
            outcome=outcome,
            duration_seconds=rng.randint(shortest, longest),
            notes=notes,
            at=min(at, ctx.now),
        )
    return len(chosen)
