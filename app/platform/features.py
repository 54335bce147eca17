"""Features declare what they add to the app; ``create_app`` collects it.

Each feature package (``app/<feature>/__init__.py``) holds one ``FEATURE``: its
blueprints, the webhook sources it processes, its hooks on order status
changes, the modules holding its event listeners, its periodic jobs and the
outbound transports it offers. Everything is named by dotted path, so a
feature's ``__init__`` imports nothing of its own and loading the declarations
costs nothing; adding a feature, or a job to one, touches that feature only.

``create_app`` loops over :data:`FEATURES` and keeps the result in
``app.extensions["features"]`` (a :class:`Registry`), where the webhook job, the
status engine, the channel registry and the schedulers look things up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from importlib import import_module
from types import MappingProxyType

from flask import current_app, has_app_context

from app.platform.jobs.periodic import PeriodicJob

# Feature packages, in the order their blueprints register: the integration hub's
# catch-all /api/v1/webhooks/<provider> comes last. (Status hooks say their own
# order: :class:`HookPhase`.)
FEATURES: tuple[str, ...] = (
    "app.platform.auth",
    "app.platform.audit",
    "app.platform.health",
    "app.conversations.inbox",
    "app.platform.admin",
    "app.orders.mobile",
    "app.conversations.attachments",
    "app.conversations.notifications",
    "app.conversations.core",
    "app.conversations.workspace",
    "app.conversations.merges",
    "app.conversations.presence",
    "app.conversations.signatures",
    "app.conversations.tasks",
    "app.conversations.message_templates",
    "app.conversations.languages",
    "app.conversations.channels",
    "app.conversations.channels.whatsapp",
    "app.conversations.channels.outlook",
    "app.conversations.channels.sms",
    "app.conversations.channels.teams",
    "app.conversations.channels.email",
    "app.orders.external",
    "app.platform.webhooks",
    "app.orders.deliveries",
    "app.orders.partners",
    "app.orders.partners.sandbox",
    "app.orders.portal",
    "app.orders.customer_page",
    "app.orders.core",
    "app.orders.planning",
    "app.orders.visit_reminders",
    "app.orders.addresses",
    "app.orders.calendar_sync",
    "app.integrations.api_docs",
    "app.orders.make",
    "app.orders.fillout",
    "app.orders.email_intake",
    "app.conversations.assignment",
    "app.analytics",
    "app.conversations.sla",
    "app.conversations.gdpr",
    "app.conversations.csat",
    "app.conversations.reply_suggestions",
    "app.integrations",
)

NO_MAPPING: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class TransportSpec:
    """An outbound provider: the real transport, and when it is configured.

    ``real`` (``"module:Class"``, built with the app config) is used once every
    key of ``requires`` is set; until then the provider's sandbox records sends.
    ``channel_type`` is the conversation channel it sends for, if any.
    """

    provider: str
    requires: tuple[str, ...]
    real: str
    label: str
    # What a test send on the channels page needs: phone, email or team.
    recipient: str
    channel_type: str | None = None
    # "module:function(message, config) -> dict": the provider's request body for a
    # plain message, so the sandbox records what the real provider would receive.
    shape: str | None = None


class HookPhase(IntEnum):
    """When an order status hook runs, inside the status change's transaction.

    Phases run in this order; within one, hooks run by path (their order there
    must not matter), never by where their feature stands in :data:`FEATURES`.
    """

    # The partner (and its Make scenarios) hear of the change first: a callback
    # carries the status as it was decided, before anything the change causes.
    TELL_PARTNER = 1
    # What the change earns: the partners' commissions ...
    EARN = 2
    # ... before the invoice the books keep, which is made of the order as it stands.
    INVOICE = 3
    # Who else follows: customer notices, Teams alerts, calendars, the hub's
    # endpoint events, the desk's count of waiting orders.
    FOLLOW = 4


@dataclass(frozen=True)
class StatusHook:
    """``"module:function"`` called with (order, transition) on each status change."""

    path: str
    phase: HookPhase


@dataclass(frozen=True)
class Feature:
    """What one feature adds to the app, by dotted path (see the module docstring)."""

    blueprints: tuple[str, ...] = ()
    webhook_processors: Mapping[str, str] = field(default_factory=lambda: NO_MAPPING)
    # (source, event type) → "module:function" taking a list of such events, which
    # a batch applies together in one transaction (a provider's delivery statuses).
    webhook_folds: Mapping[tuple[str, str], str] = field(default_factory=lambda: NO_MAPPING)
    status_hooks: tuple[StatusHook, ...] = ()
    listeners: tuple[str, ...] = ()
    periodic_jobs: tuple[PeriodicJob, ...] = ()
    transports: tuple[TransportSpec, ...] = ()
    # "module:function" called with the app once its blueprints are registered.
    init_app: str | None = None
    # What the feature lends a lower context by name ({"orders.invoices_of":
    # "module:function"}): the conversation's pages show orders without importing
    # the order context that stands on them (see :func:`offered`).
    offers: Mapping[str, str] = field(default_factory=lambda: NO_MAPPING)


@dataclass
class Registry:
    """Everything the features declared, collected for one app."""

    blueprints: list[str] = field(default_factory=list)
    webhook_processors: dict[str, str] = field(default_factory=dict)
    webhook_folds: dict[tuple[str, str], str] = field(default_factory=dict)
    status_hooks: list[str] = field(default_factory=list)
    listeners: list[str] = field(default_factory=list)
    periodic_jobs: list[PeriodicJob] = field(default_factory=list)
    transports: dict[str, TransportSpec] = field(default_factory=dict)
    init_apps: list[str] = field(default_factory=list)
    offers: dict[str, str] = field(default_factory=dict)
    _hooks: list[StatusHook] = field(default_factory=list, repr=False)

    def add(self, name: str, feature: Feature) -> None:
        self.blueprints += feature.blueprints
        for source, path in feature.webhook_processors.items():
            if source in self.webhook_processors:
                raise ValueError(f"{name}: webhook source {source!r} is processed twice")
            self.webhook_processors[source] = path
        self.webhook_folds.update(feature.webhook_folds)
        hooks = [*self._hooks, *feature.status_hooks]
        self._hooks = sorted(hooks, key=lambda hook: (hook.phase, hook.path))
        self.status_hooks = [hook.path for hook in self._hooks]
        self.listeners += feature.listeners
        names = {job.name for job in self.periodic_jobs}
        for job in feature.periodic_jobs:
            if job.name in names:
                raise ValueError(f"{name}: periodic job {job.name!r} is declared twice")
            self.periodic_jobs.append(job)
        for spec in feature.transports:
            self.transports[spec.provider] = spec
        if feature.init_app:
            self.init_apps.append(feature.init_app)
        for offer, path in feature.offers.items():
            if offer in self.offers:
                raise ValueError(f"{name}: {offer!r} is offered twice")
            self.offers[offer] = path


def collect(names: tuple[str, ...] = FEATURES) -> Registry:
    """Read every feature's declaration."""
    registry = Registry()
    for name in names:
        registry.add(name, import_module(name).FEATURE)
    return registry


@cache
def _declared() -> Registry:
    return collect()


def offered(name: str):
    """The function a feature offers under ``name`` (:attr:`Feature.offers`).

    Read from the running app's registry; outside one (a script, a unit test of a
    service), from the declarations themselves.
    """
    registry = current_app.extensions["features"] if has_app_context() else _declared()
    return resolve(registry.offers[name])


def resolve(path: str):
    """The object a ``"module:attribute"`` path names."""
    module, _, attribute = path.partition(":")
    return getattr(import_module(module), attribute)
