"""State shared by the demo-data builders while one seed run is in progress."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from app.conversations.business_time.calendar import Schedule, calendar_for, is_holiday, schedule_of
from app.orders.mobile.services import AMSTERDAM, local_today
from app.platform.models import (
    Address,
    Article,
    CommunicationChannel,
    CommunicationTemplate,
    Contact,
    Order,
    Organization,
    Team,
    User,
)
from app.platform.models.enums import ChannelType

# One seed, so every run builds the same people, orders and conversations; only
# uuids and timestamps (which are relative to "now") differ between runs.
DEMO_SEED = 2026


@dataclass
class Customer:
    """A household: its organization, the person we talk to, and the address."""

    organization: Organization
    contact: Contact
    address: Address


@dataclass
class Partner:
    """A partner organization, the contact that stands for it, and its chain."""

    organization: Organization
    contact: Contact
    # Contacts of this partner and every ancestor, nearest to the customer first.
    chain: list[Contact]
    master: Organization
    order_prefix: str


@dataclass
class DemoContext:
    """Everything the builders hand to each other; rows are added as they go."""

    rng: random.Random
    now: datetime
    today: date
    teams: dict[str, Team] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)
    articles: dict[str, Article] = field(default_factory=dict)
    sku_map: dict[tuple[str, str], Article] = field(default_factory=dict)
    channels: dict[ChannelType, CommunicationChannel] = field(default_factory=dict)
    templates: dict[str, CommunicationTemplate] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    # Order id -> the customer it was placed for, so threads can talk about it.
    order_customer: dict[uuid.UUID, Customer] = field(default_factory=dict)
    # Order id -> the wallbox on it, for messages that mention "uw laadpaal".
    order_charger: dict[uuid.UUID, str] = field(default_factory=dict)
    external_ids: set[str] = field(default_factory=set)
    # Order id -> when it was scheduled, so its visit was planned at that moment.
    scheduled_at: dict[uuid.UUID, datetime] = field(default_factory=dict)
    # User id -> open conversations assigned so far (least-loaded routing keeps it even).
    open_load: dict[uuid.UUID, int] = field(default_factory=dict)
    # The desk's opening hours and holidays (the default business calendar), read once.
    _schedule: Schedule | None = None

    @classmethod
    def start(cls, now: datetime) -> DemoContext:
        return cls(rng=random.Random(DEMO_SEED), now=now, today=local_today(now))  # noqa: S311

    def schedule(self) -> Schedule:
        """The default business calendar the demo's times keep to (read on first use)."""
        if self._schedule is None:
            self._schedule = schedule_of(calendar_for(None))
        return self._schedule

    def working_day(self, day: date) -> date:
        """``day``, or the first day after it that is neither a weekend nor a holiday."""
        while day.weekday() >= 5 or is_holiday(self.schedule(), day):
            day += timedelta(days=1)
        return day

    def user(self, key: str) -> User:
        """A demo user by the part of the e-mail before the @."""
        return self.users[key]

    def team_members(self, slug: str) -> list[User]:
        team = self.teams[slug]
        return [user for user in self.users.values() if user.team_id == team.id]

    def local_time(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall-clock time in the Netherlands, as the UTC instant it is."""
        # Wall-clock arithmetic on the local midnight, so minutes may run past 59.
        local = datetime.combine(day, time(0), tzinfo=AMSTERDAM)
        return (local + timedelta(hours=hour, minutes=minute)).astimezone(timezone.utc)

    def ago(self, **delta: float) -> datetime:
        return self.now - timedelta(**delta)

    def token(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choices(alphabet, k=length))

    def external_id(self, make) -> str:
        """A provider message id no other demo message has (they are unique per channel)."""
        while True:
            value = make()
            if value not in self.external_ids:
                self.external_ids.add(value)
                return value


def in_office_hours(ctx: DemoContext, steps: list, latest: datetime) -> list:
    """(status, time) steps of the office moved into 08:00–17:00 of their day, where order allows.

    People approve and plan in office hours; a step keeps its drawn time when the
    move would pass the next step, ``latest`` or now.
    """
    moved, previous = [], None
    for index, (status, moment) in enumerate(steps):
        local = moment.astimezone(AMSTERDAM)
        minutes = local.hour * 60 + local.minute
        office = ctx.local_time(local.date(), 8, round(minutes * 9 / 24))
        bound = min(steps[index + 1][1] if index + 1 < len(steps) else latest, ctx.now)
        if (previous is None or office > previous) and office < bound:
            moment = office
        moved.append((status, moment))
        previous = moment
    return moved
