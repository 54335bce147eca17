"""The route walk: every portal route with an object id, asked for another partner's objects.

The rules are read from ``app.url_map``, so a route added to the portal later
is walked too; an id argument the walk does not know fails the test until it
is taught which objects to try.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import ApiToken, AuditLog, OutboundDelivery, PartnerIntegration
from tests.support.helpers import csrf_token_from
from tests.support.portal_support import build_world

PORTAL_BLUEPRINTS = ("portal", "portal_settings")
# Which of a partner's objects each id argument names.
OBJECTS = {"order_id": "orders", "delivery_id": "deliveries", "token_id": "key_ids"}
SAMPLE_TEXT = {
    "name": "walk",
    "mode": "live",
    "scope": "write",
    "webhook_url": "https://evil.example/x",
    "ip_allowlist": "0.0.0.0/0",
    "since": "2000-01-01T00:00",
    "overlap_hours": "1",
    "language": "en",
}


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def portal_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in PORTAL_BLUEPRINTS
    ]


def object_ids(fixture, name):
    items = getattr(fixture, OBJECTS[name])
    return [getattr(item, "id", item) for item in items]


def snapshot(world):
    """What another partner's walk must not change: Alpha's and its sub-partner's state."""
    db.session.expire_all()
    state = {}
    for name in ("alpha", "sub"):
        fixture = world[name]
        integration = db.session.get(PartnerIntegration, fixture.integration.id)
        state[name] = (
            integration.webhook_url,
            integration.webhook_secret,
            list(integration.ip_allowlist or []),
            [db.session.get(OutboundDelivery, d.id).state for d in fixture.deliveries],
            [db.session.get(OutboundDelivery, d.id).attempt_count for d in fixture.deliveries],
            [db.session.get(ApiToken, k).revoked_at for k in fixture.key_ids],
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ApiToken)
                .where(ApiToken.partner_organization_id == fixture.organization.id)
            ),
        )
    state["audit"] = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    return state


def test_the_walk_knows_every_id_argument(app):
    rules = portal_rules(app)
    assert len(rules) >= 15
    for rule in rules:
        unknown = set(rule.arguments) - set(OBJECTS)
        assert not unknown, f"{rule.rule}: teach the walk which objects {unknown} names"


def test_every_portal_route_needs_a_signed_in_partner(client, world):
    for rule in portal_rules(app=client.application):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<uuid:{name}>", str(object_ids(world["alpha"], name)[0]))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            assert response.status_code in (302, 400, 401), (method, path, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]


def test_another_partners_objects_are_never_reached(client, auth, world):
    """Signed in as Beta, every route with an id, for each of Alpha's and Alpha Sub's objects."""
    auth.login(world["beta"].user_email)
    token = csrf_token_from(client.get("/portal/").get_data(as_text=True))
    before = snapshot(world)
    walked = 0
    for rule in portal_rules(client.application):
        if not rule.arguments:
            continue
        (name,) = rule.arguments
        for victim in ("alpha", "sub"):
            for object_id in object_ids(world[victim], name):
                path = rule.rule.replace(f"<uuid:{name}>", str(object_id))
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    data = {"csrf_token": token, **SAMPLE_TEXT} if method == "POST" else None
                    response = client.open(path, method=method, data=data)
                    assert response.status_code in (403, 404), (method, path, response.status_code)
                    walked += 1
    assert walked >= 12
    assert snapshot(world) == before


def test_pages_without_ids_show_only_the_users_own_things(client, auth, world):
    auth.login(world["beta"].user_email)
    alpha = world["alpha"]
    secrets = [o.partner_order_id for o in alpha.orders + world["sub"].orders]
    secrets += [str(d.id) for d in alpha.deliveries + world["sub"].deliveries]
    secrets += [db.session.get(ApiToken, k).prefix for k in alpha.key_ids + world["sub"].key_ids]
    secrets += ["alpha.example", "sub.example"]
    for rule in portal_rules(client.application):
        if rule.arguments or "GET" not in rule.methods:
            continue
        html = client.get(rule.rule).get_data(as_text=True)
        for secret in secrets:
            assert secret not in html, (rule.rule, secret)


def test_a_sub_partner_user_walks_into_its_parents_orders(client, auth, world):
    auth.login(world["sub"].user_email)
    for order in world["alpha"].orders:
        assert client.get(f"/portal/orders/{order.id}").status_code == 404
    for delivery in world["alpha"].deliveries:
        assert client.get(f"/portal/deliveries/{delivery.id}").status_code == 404
