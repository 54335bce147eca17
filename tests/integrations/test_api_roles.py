"""Who may call which JSON API route: the role rules as a matrix.

:data:`EXPECTED` declares, for every route under ``/api/`` in ``app.url_map``,
which callers get through. A route missing from it fails
:func:`test_every_api_route_declares_who_may_call_it`, so a new route cannot
ship without saying who it is for. Each route is then called for real by each
caller; bodies are minimal (``{}``), so an allowed caller may get 200, 201, 202,
204, 400, 404, 409 or 422, anything but 401/403, and a refused one gets 401 (not
signed in to this API) or 403 (signed in, not allowed), as JSON.

The records named in paths are set up so that the rules by record do not get
in the way of the rules by role: the thread, message and task belong to the
technician's own visit, which desk staff may open too. Rules by record (another
team's thread, another technician's visit) have their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.integrations import services as integrations
from app.integrations.endpoints import create_endpoint, emit_event, parse_json
from app.orders.partners.keys import issue_partner_key
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import InternalTask, Order, OutboundDelivery
from app.platform.models.enums import ChannelType, KeyMode, OrderStatus, TokenKind
from tests.conftest import opened
from tests.support import factories
from tests.support.partner_support import make_partner

STAFF_ROLES = ("agent", "team_lead", "manager", "admin", "technician")
ANONYMOUS, PARTNER, OTHER_PARTNER = "anonymous", "partner", "other_partner"
CALLERS = (ANONYMOUS, PARTNER, OTHER_PARTNER, *STAFF_ROLES)
# Not a caller of its own: the partner, with its test key on the sandbox's routes.
PARTNER_TEST = "partner_test"

# Who gets through, by personal token (or session) on the app's JSON API ...
STAFF = frozenset(STAFF_ROLES)  # every signed-in role; the data is scoped to what each may see
DESK = frozenset({"agent", "team_lead", "manager", "admin"})  # the inbox's roles
MANAGERS = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})
# ... by the partner's own key on the partner API (another partner's key: 403) ...
PARTNER_KEY = frozenset({PARTNER})
# ... and without any sign-in.
PUBLIC = frozenset(CALLERS)
# Provider webhooks are verified by the provider's signature or secret; a token
# or key of ours neither helps nor hurts, so every caller must get the same answer.
SIGNED = "signed by the provider"

EXPECTED: dict[str, frozenset[str] | str] = {
    # Threads and messages: the inbox's access rule decides which ones.
    "GET /api/communication/threads": STAFF,
    "POST /api/communication/threads": DESK,
    "GET /api/communication/threads/<thread_id>": STAFF,
    "PUT /api/communication/threads/<thread_id>": STAFF,
    # Logging a phone call is desk work.
    "POST /api/communication/calls": DESK,
    "GET /api/communication/messages": STAFF,
    "POST /api/communication/messages": STAFF,
    "PUT /api/communication/messages/<message_id>": STAFF,
    # Tasks: technicians see (and so change) the ones assigned to them.
    "GET /api/tasks": STAFF,
    "POST /api/tasks": STAFF,
    "GET /api/tasks/<task_id>": STAFF,
    "PUT /api/tasks/<task_id>": STAFF,
    "GET /api/notifications": STAFF,
    # The @mention picker: the colleagues a desk user may mention.
    "GET /api/colleagues": DESK,
    "POST /api/notifications/read": STAFF,
    "POST /api/notifications/test": STAFF,
    # Templates: the composer's; creating one is the admin page's.
    "GET /api/templates": DESK,
    "GET /api/templates/<template_id>": DESK,
    "POST /api/templates": ADMINS,
    # Orders: the order page's rule; a technician moves only their own visit.
    "GET /api/orders/<key>": DESK,
    "POST /api/orders/<key>/status": STAFF,
    # Sending to customers is desk work; bulk mail is a manager's call.
    "POST /api/v1/external/send-whatsapp": DESK,
    "POST /api/v1/external/send-email": DESK,
    "POST /api/v1/external/send-bulk-email": MANAGERS,
    "GET /api/v1/external/bulk-jobs/<job_id>": MANAGERS,
    # Integrations: the /integrations admin page's twin.
    "GET /api/integrations": ADMINS,
    "POST /api/integrations": ADMINS,
    "GET /api/integrations/<integration_id>": ADMINS,
    "PATCH /api/integrations/<integration_id>": ADMINS,
    "DELETE /api/integrations/<integration_id>": ADMINS,
    "GET /api/integrations/<integration_id>/logs": ADMINS,
    "POST /api/integrations/<integration_id>/test": ADMINS,
    "POST /api/integrations/<integration_id>/sync": ADMINS,
    "GET /api/integrations/<integration_id>/sync": ADMINS,
    "POST /api/integrations/<integration_id>/sync/<job_id>/resume": ADMINS,
    "POST /api/integrations/oauth/initiate": ADMINS,
    "POST /api/integrations/oauth/callback": ADMINS,
    # Outgoing webhook endpoints: the /integrations/webhooks admin pages' twin.
    "GET /api/webhooks": ADMINS,
    "POST /api/webhooks": ADMINS,
    "GET /api/webhooks/<endpoint_id>": ADMINS,
    "PATCH /api/webhooks/<endpoint_id>": ADMINS,
    "DELETE /api/webhooks/<endpoint_id>": ADMINS,
    "POST /api/webhooks/<endpoint_id>/rotate-secret": ADMINS,
    "POST /api/webhooks/<endpoint_id>/test": ADMINS,
    "GET /api/webhooks/<endpoint_id>/deliveries": ADMINS,
    "POST /api/webhooks/<endpoint_id>/deliveries/<delivery_id>/retry": ADMINS,
    # The partner API: the partner's own key, nobody else's.
    "POST /api/v1/partners/<partner_id>/orders": PARTNER_KEY,
    "GET /api/v1/partners/<partner_id>/orders/<path:partner_order_id>/status": PARTNER_KEY,
    "POST /api/v1/partners/<partner_id>/integration-config": PARTNER_KEY,
    # The sandbox: the partner's own test key.
    "POST /api/v1/partners/<partner_id>/sandbox/orders/<path:partner_order_id>/status": PARTNER_KEY,
    "POST /api/v1/partners/<partner_id>/sandbox/orders/<path:partner_order_id>/timeline": (
        PARTNER_KEY
    ),
    # The partner's order API.
    "GET /api/v1/partners/<partner_id>/orders": PARTNER_KEY,
    "GET /api/v1/partners/<partner_id>/orders/<path:partner_order_id>": PARTNER_KEY,
    "PATCH /api/v1/partners/<partner_id>/orders/<path:partner_order_id>": PARTNER_KEY,
    "POST /api/v1/partners/<partner_id>/orders/<path:partner_order_id>/cancel": PARTNER_KEY,
    "GET /api/v1/partners/<partner_id>/integration-config": PARTNER_KEY,
    "GET /api/v1/partners/<partner_id>/events": PARTNER_KEY,
    # The API's own description.
    "GET /api/docs": PUBLIC,
    "GET /api/docs/partners": PUBLIC,  # the getting-started guide, docs/partners.md
    "GET /api/docs/partners.md": PUBLIC,
    "GET /api/v1/openapi.json": PUBLIC,
    # Inbound webhooks.
    "GET /api/v1/webhooks/whatsapp": SIGNED,
    "POST /api/v1/webhooks/whatsapp": SIGNED,
    "POST /api/v1/webhooks/outlook": SIGNED,
    "POST /api/v1/webhooks/sms": SIGNED,
    "POST /api/v1/webhooks/sendgrid": SIGNED,
    "POST /api/v1/webhooks/fillout": SIGNED,
    "POST /api/v1/webhooks/make/<scenario>": SIGNED,
    "POST /api/v1/webhooks/partner-status/<partner_id>": SIGNED,
    "POST /api/v1/webhooks/salesforce": SIGNED,
    "POST /api/v1/webhooks/<provider>": SIGNED,
}


def api_routes(app) -> set[str]:
    """Every "METHOD /api/..." the app serves (HEAD and OPTIONS come with GET and every route)."""
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@pytest.fixture
def app(make_app):
    # No worker: nothing a route queues (a sync, a send) runs, let alone calls out.
    # Stripe, whose integration the admin routes are called with, answers nowhere.
    with opened(make_app(start_embedded_worker=False, STRIPE_API_BASE="http://127.0.0.1:9")) as app:
        yield app


def test_every_api_route_declares_who_may_call_it(app):
    served = api_routes(app)
    assert sorted(served - set(EXPECTED)) == [], "add these routes to EXPECTED with their rule"
    assert sorted(set(EXPECTED) - served) == [], "these routes are gone; remove them"


@dataclass
class World:
    """Callers' credentials and the records the paths name."""

    headers: dict[str, dict[str, str]]
    path_values: dict[str, str]

    def url(self, rule: str) -> str:
        for name, value in self.path_values.items():
            rule = rule.replace(f"<path:{name}>", value).replace(f"<{name}>", value)
        assert "<" not in rule, f"no value for a parameter of {rule}"
        return rule


def _world(make_user) -> World:
    users = {role: make_user(role) for role in STAFF_ROLES}
    headers: dict[str, dict[str, str]] = {ANONYMOUS: {}}
    for role, user in users.items():
        _, token = issue_token(TokenKind.PERSONAL, "matrix", user_id=user.id)
        headers[role] = {"Authorization": f"Bearer {token}"}
    partner, other = make_partner("Groendus"), make_partner("Eneco")
    headers[PARTNER] = partner.headers
    headers[OTHER_PARTNER] = other.headers
    # The sandbox's routes take the partner's test key (a live key: 403 test_key_required).
    _, test_key = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    headers[PARTNER_TEST] = {"X-API-Key": test_key}

    customer = factories.contact(display_name="Eva de Boer")
    visit = Order(
        order_number="CC-2026-00001",
        status=OrderStatus.SCHEDULED,
        end_customer_contact_id=customer.id,
        assigned_technician_id=users["technician"].id,
    )
    db.session.add(visit)
    db.session.flush()
    thread = factories.thread(
        factories.channel(ChannelType.WHATSAPP_BUSINESS), customer, order_id=visit.id
    )
    message = factories.message(thread, "Hoe laat komt de monteur?")
    task = InternalTask(
        task_title="Foto's uploaden",
        thread_id=thread.id,
        assigned_to_user_id=users["technician"].id,
        reminder_settings={},
    )
    db.session.add(task)
    template = factories.template()
    stripe = integrations.create_integration(
        {"provider": "stripe", "api_key": "sk_test_51MatrixKey0000000000"}, users["admin"]
    )
    endpoint, _ = create_endpoint(
        parse_json({"url": "https://erp.example.com/hook", "events": ["invoice.paid"]})[0],
        users["admin"],
    )
    emit_event("invoice.paid", {"invoice": "F-1"}, source="test")
    delivery = db.session.scalars(sa.select(OutboundDelivery)).one()
    db.session.commit()
    return World(
        headers=headers,
        path_values={
            "thread_id": str(thread.id),
            "message_id": str(message.id),
            "task_id": str(task.id),
            "template_id": str(template.id),
            "key": visit.order_number,
            "job_id": "no-such-job",
            "integration_id": str(stripe.id),
            "endpoint_id": str(endpoint.id),
            "delivery_id": str(delivery.id),
            "partner_id": partner.id,
            "partner_order_id": "GRD-2026-0001",
            "scenario": "order-created",
            "provider": "stripe",
        },
    )


def _call(client, route: str, world: World, caller: str):
    method, rule = route.split(" ", 1)
    url = world.url(rule)
    if method == "GET" and rule == "/api/communication/messages":
        url += f"?thread_id={world.path_values['thread_id']}"
    body = {} if method in ("POST", "PUT", "PATCH") else None
    if caller == PARTNER and "/sandbox/" in rule:
        caller = PARTNER_TEST
    return client.open(url, method=method, json=body, headers=world.headers[caller])


def _refusal(route: str, caller: str) -> int:
    """401 for a caller this API does not know at all, 403 for one it knows."""
    partner_api = route.split(" ", 1)[1].startswith("/api/v1/partners/")
    if caller == ANONYMOUS:
        return 401
    if partner_api:
        return 403 if caller == OTHER_PARTNER else 401
    return 401 if caller in (PARTNER, OTHER_PARTNER) else 403


def _mismatch(route: str, caller: str, response) -> str | None:
    """What is wrong with ``response`` to ``caller`` on ``route``; None if it is as declared."""
    status = response.status_code
    if caller in EXPECTED[route]:
        if status in (401, 403) or status >= 500:
            return f"{route}: {caller} should get through, got {status}"
        return None
    if status != _refusal(route, caller):
        return f"{route}: {caller} should get {_refusal(route, caller)}, got {status}"
    if not (response.is_json and response.json.get("error", {}).get("code")):
        return f"{route}: {caller}'s {status} is not a JSON error"
    return None


def test_every_caller_gets_through_or_is_refused_as_declared(client, make_user):
    world = _world(make_user)
    # Deleting comes last, so the other routes are called with the record still there.
    routes = sorted(
        (r for r, rule in EXPECTED.items() if rule != SIGNED),
        key=lambda route: (route.startswith("DELETE"), route),
    )
    mismatches = []
    for route in routes:
        # Refused callers first: what an allowed one changes must not decide a refusal.
        for caller in sorted(CALLERS, key=lambda c: c in EXPECTED[route]):
            mismatches.append(_mismatch(route, caller, _call(client, route, world, caller)))
    problems = [m for m in mismatches if m]
    assert not problems, "\n".join(problems)


def test_our_tokens_and_keys_change_nothing_on_provider_webhooks(client, make_user):
    world = _world(make_user)
    for route in sorted(r for r, rule in EXPECTED.items() if rule == SIGNED):
        outcomes = {caller: _call(client, route, world, caller).status_code for caller in CALLERS}
        assert len(set(outcomes.values())) == 1, (route, outcomes)
        assert outcomes[ANONYMOUS] < 500, (route, outcomes)
