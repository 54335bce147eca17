"""SLA policies: how many business minutes a first answer may take.

Default response time targets, in business minutes:

===========================  =======================================
e-mail (Outlook)             240 (4 business hours)
WhatsApp                      60
SMS                           60
escalated, any channel        30
internal task, by priority   critical 30, urgent 60, high 240,
                             normal 480 (one working day), low 960
anything else                the channel's ``response_sla_hours``,
                             else 240
===========================  =======================================

The most specific active policy wins: one naming the channel type and the
priority beats one naming only the channel type, which beats one naming only
the priority, which beats a catch-all. Threads in status escalated look only at
``escalated`` policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.kept import Kept
from app.platform.models import CommunicationThread
from app.platform.models.enums import ChannelType, Priority, ThreadType
from app.platform.models.sla import SlaPolicy

FALLBACK_MINUTES = 240
ESCALATED_FALLBACK_MINUTES = 30


@dataclass(frozen=True)
class PolicyDefault:
    name: str
    channel_type: str | None
    priority: str | None
    escalated: bool
    response_minutes: int


TASK = ChannelType.INTERNAL_TASK.value
# The names are stored, and admins rename policies as they like: they are the Dutch
# desk's own words, as the demo's templates and teams are (migration 0057 renamed
# the English ones stored before).
DEFAULT_POLICIES: tuple[PolicyDefault, ...] = (
    PolicyDefault("E-mail", ChannelType.EMAIL_OUTLOOK.value, None, False, 240),
    PolicyDefault("WhatsApp", ChannelType.WHATSAPP_BUSINESS.value, None, False, 60),
    PolicyDefault("SMS", ChannelType.SMS.value, None, False, 60),
    PolicyDefault("Geëscaleerd", None, None, True, ESCALATED_FALLBACK_MINUTES),
    PolicyDefault("Interne taak, kritiek", TASK, "critical", False, 30),
    PolicyDefault("Interne taak, urgent", TASK, "urgent", False, 60),
    PolicyDefault("Interne taak, hoog", TASK, "high", False, 240),
    PolicyDefault("Interne taak, normaal", TASK, "normal", False, 480),
    PolicyDefault("Interne taak, laag", TASK, "low", False, 960),
)


def default_policy_rows() -> list[SlaPolicy]:
    return [
        SlaPolicy(
            name=d.name,
            channel_type=d.channel_type,
            priority=d.priority,
            escalated=d.escalated,
            response_minutes=d.response_minutes,
            is_active=True,
        )
        for d in DEFAULT_POLICIES
    ]


def ensure_default_policies() -> bool:
    """Insert the default policies when there are none at all; True if it did.

    The caller commits. Until then (or if an admin deletes every policy) the
    lookup falls back to the same defaults in memory, so inbound never waits
    on this.
    """
    if db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))):
        return False
    db.session.add_all(default_policy_rows())
    db.session.flush()
    return True


@dataclass(frozen=True)
class KeptPolicy:
    """What :func:`find_policy` and :func:`target_seconds` read of an active policy."""

    escalated: bool
    channel_type: str | None
    priority: str | None
    response_minutes: int


# Every new SLA cycle (a new conversation, a customer writing after an answer)
# reads the policies; they change seldom.
_kept: Kept[tuple[KeptPolicy, ...]] = Kept()


def kept_policies() -> tuple[KeptPolicy, ...]:
    """:func:`active_policies`, as plain values kept a few seconds per worker."""
    return _kept.get(None, _policy_values)


def _policy_values() -> tuple[KeptPolicy, ...]:
    return tuple(
        KeptPolicy(
            escalated=bool(policy.escalated),
            channel_type=policy.channel_type,
            priority=policy.priority,
            response_minutes=int(policy.response_minutes),
        )
        for policy in active_policies()
    )


def active_policies() -> list[SlaPolicy]:
    """Active policies from the table; the built-in defaults when it is empty."""
    stored = list(db.session.scalars(sa.select(SlaPolicy)))
    if not stored:
        return default_policy_rows()
    return [policy for policy in stored if policy.is_active]


def thread_channel_type(thread: CommunicationThread) -> str | None:
    """The channel type a thread's SLA is measured by (internal tasks have no channel)."""
    if thread.channel is not None:
        return ChannelType(thread.channel.channel_type).value
    if thread.thread_type == ThreadType.INTERNAL_TASK:
        return ChannelType.INTERNAL_TASK.value
    return None


def find_policy(
    policies: Sequence[SlaPolicy | KeptPolicy],
    channel_type: str | None,
    priority: str | None,
    escalated: bool,
) -> SlaPolicy | KeptPolicy | None:
    """The most specific policy matching; None when nothing matches."""
    best, best_score = None, -1
    for policy in policies:
        if bool(policy.escalated) != escalated:
            continue
        if policy.channel_type is not None and policy.channel_type != channel_type:
            continue
        if policy.priority is not None and policy.priority != priority:
            continue
        score = (2 if policy.channel_type is not None else 0) + (
            1 if policy.priority is not None else 0
        )
        if score > best_score:
            best, best_score = policy, score
    return best


def target_seconds(
    thread: CommunicationThread,
    *,
    escalated: bool = False,
    policies: Sequence[SlaPolicy | KeptPolicy] | None = None,
) -> int:
    """Business seconds the thread's current cycle may take before its answer."""
    policies = kept_policies() if policies is None else policies
    priority = Priority(thread.priority).value if thread.priority is not None else None
    policy = find_policy(policies, thread_channel_type(thread), priority, escalated)
    if policy is not None:
        return int(policy.response_minutes) * 60
    if escalated:
        return ESCALATED_FALLBACK_MINUTES * 60
    hours = thread.channel.response_sla_hours if thread.channel is not None else None
    return int(hours * 3600) if hours else FALLBACK_MINUTES * 60
