"""Demo phone calls: calls agents logged on customer conversations.

Written through the conversation's owner (:func:`app.conversations.core.log_call`)
like a call an agent logs, between two of the conversation's own messages, so
the calls spread over the weeks of history as the messages do (the timeline and
the analytics calls card have some), and no customer waiting on us now is
answered by one.
"""

from __future__ import annotations

import random

from app.conversations.business_time.calendar import (
    business_seconds_between,
    calendar_for,
    schedule_of,
    subtract_business_seconds,
)
from app.conversations.core import log_call
from app.platform.models.enums import CallDirection, CallOutcome, ChannelType, ThreadType
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
    """Log :data:`CALL_COUNT` calls on customer threads; return how many."""
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
        and info.thread.contact_id is not None
        and len(info.message_times) > 1
        # A call answers the customer: leave the ones waiting on us waiting, as the
        # morning's story has them (app.seed.demo_sla).
        and info.thread.response_due_at is None
    ]
    agents = ctx.team_members("customer-service") or [ctx.user("agent")]
    schedule = schedule_of(calendar_for(None))
    chosen = rng.sample(customer_threads, min(CALL_COUNT, len(customer_threads)))
    for info in chosen:
        direction, outcome, (shortest, longest), notes = rng.choice(CALLS)
        thread = info.thread
        agent = thread.assigned_to or rng.choice(agents)
        # Between two of its messages, in the desk's opening hours.
        times = info.message_times
        gap = rng.randrange(1, len(times))
        between = business_seconds_between(schedule, times[gap - 1], times[gap])
        at = subtract_business_seconds(schedule, times[gap], round(between * rng.uniform(0.2, 0.8)))
        log_call(
            thread,
            agent_id=agent.id,
            direction=direction,
            outcome=outcome,
            duration_seconds=rng.randint(shortest, longest),
            notes=notes,
            at=at,
        )
    return len(chosen)
