"""Features declare themselves; the app is what the declarations add up to."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest

from app.conversations.core.events import MessageCreated
from app.platform.events import listeners_of
from app.platform.features import FEATURES, Feature, Registry, collect, resolve

APP = Path(__file__).resolve().parents[2] / "app"


def test_every_package_with_pages_or_jobs_is_a_listed_feature():
    # A package with routes, listeners or a processor that is not in FEATURES
    # would silently be left out of the app. A group inside a feature
    # (app.integrations.sync) is part of it when the feature names the module.
    registry = collect()
    named = {path.split(":")[0] for path in registry.blueprints} | set(registry.listeners)
    unlisted = []
    for marker in ("routes.py", "listeners.py", "api.py"):
        for path in APP.rglob(marker):
            package = ".".join(path.parent.relative_to(APP.parent).parts)
            module = f"{package}.{path.stem}"
            in_a_feature = any(package.startswith(f"{feature}.") for feature in FEATURES)
            in_the_api = package == "app.platform.json_api"
            if package in FEATURES or in_the_api or (in_a_feature and module in named):
                continue
            unlisted.append(module)
    assert unlisted == []


def test_every_declaration_points_at_something_real():
    registry = collect()
    for path in registry.blueprints + registry.status_hooks + registry.init_apps:
        assert resolve(path) is not None, path
    for source, path in registry.webhook_processors.items():
        assert callable(resolve(path)), source
    for job in registry.periodic_jobs:
        module, _, name = job.func_path.rpartition(".")
        assert callable(getattr(import_module(module), name)), job.name
    for module in registry.listeners:
        import_module(module)
    for spec in registry.transports.values():
        assert callable(resolve(spec.real)), spec.provider


def test_order_status_hooks_run_in_the_order_partners_expect():
    # The partner hears of a change before commissions and invoices are made.
    hooks = collect().status_hooks
    assert hooks.index("app.orders.deliveries.partner_callbacks:on_status_change") < hooks.index(
        "app.orders.partners.commissions:on_status_change"
    ) < hooks.index("app.integrations.payments.accounting:on_status_change")


def test_the_hook_order_is_the_hooks_own_not_the_features_position():
    """Each hook names its phase: listing the features the other way round changes nothing."""
    assert collect(tuple(reversed(FEATURES))).status_hooks == collect().status_hooks


def test_the_catch_all_provider_webhook_route_is_registered_last(app):
    assert collect().blueprints[-1] == "app.integrations.provider_webhooks.routes:bp"
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert rules.index("/api/v1/webhooks/whatsapp") < rules.index("/api/v1/webhooks/<provider>")


def test_a_source_or_job_declared_twice_is_refused():
    registry = Registry()
    registry.add("one", Feature(webhook_processors={"whatsapp": "a:b"}))
    with pytest.raises(ValueError, match="processed twice"):
        registry.add("two", Feature(webhook_processors={"whatsapp": "c:d"}))
    job = collect().periodic_jobs[0]
    registry.add("three", Feature(periodic_jobs=(job,)))
    with pytest.raises(ValueError, match="declared twice"):
        registry.add("four", Feature(periodic_jobs=(job,)))


def test_the_app_carries_what_the_features_declared(app):
    registry = app.extensions["features"]
    assert set(registry.webhook_processors) >= {"whatsapp", "sms", "outlook", "sendgrid"}
    assert set(registry.transports) == {"whatsapp", "graph", "sms", "teams", "sendgrid"}
    assert app.extensions["broker"].periodic_jobs == tuple(registry.periodic_jobs)


def test_listeners_run_by_their_path_not_by_when_their_feature_was_imported(app):
    paths = [(f.__module__, f.__qualname__) for f in listeners_of(MessageCreated)]
    assert len(paths) > 5 and paths == sorted(paths)
