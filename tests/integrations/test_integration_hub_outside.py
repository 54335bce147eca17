"""The integration hub, judged from outside on the deployment a customer runs.

``python wsgi.py`` and two ``python worker.py`` on PostgreSQL and Redis, every
provider pointed at a fake that speaks its documented format, driven only as a
deployer and an integrating system would: the documented CLI (``flask --app
wsgi users create|token``) for an admin's and an agent's bearer token, then HTTP.

One flow, in the order a deployer meets it:

1. QuickBooks and HubSpot integrations made over ``/api/integrations`` (the
   QuickBooks verifier token with them, shown back only as "set …abcd") and
   connected through their OAuth flow (PKCE, against a fake authorization server).
2. A partner's receiver registered over ``/api/webhooks``; its ``whsec_`` secret
   is in that answer only.
3. A HubSpot contacts sync started over the API; the HubSpot fake answers only
   default properties unless ``properties=`` asks for more, as HubSpot does. The
   synced customer then writes twice on WhatsApp: one contact, one conversation.
4. The order is completed over ``/api/orders``; the workers push its invoice to
   QuickBooks; the bookkeeper records the payment there and QuickBooks notifies
   (``intuit-signature``). The receiver, down at first, gets ``invoice.paid``
   signed with the secret of step 2; the delivery log lists it failed, and a
   retry over the API re-sends it with the same ``webhook-id``.
5. Errors from outside: 401 without a token, 403 for an agent, 422 naming the
   field, 401 for a wrongly signed QuickBooks call.
6. A mistyped provider URL variable is reported in the web's and the workers' logs.

The only state made in the database directly is the customer's order in
progress: orders come in through the partner intake (address check against the
BAG, partner SKUs mapped to articles), which other tests judge. Needs
PostgreSQL and Redis.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    InboundWebhookEvent,
    Order,
)
from app.platform.models.enums import OrderStatus, ProcessingState
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes import whatsapp as wa
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.oauth_provider import FakeOAuthProvider
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.fakes.receiver import FakeReceiver
from tests.integrations.test_invoice_payments import qbo_notification
from tests.support.helpers import serving
from tests.support.topology import ROOT, Topology, wait_until
from tests.support.whatsapp_support import (
    CUSTOMER,
    CUSTOMER_E164,
    fake_whatsapp_server,
    whatsapp_settings,
)

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

# A worker's job on a busy 2-core machine: seconds; anything slower is stuck.
SETTLE_SECONDS = 90.0
ADMIN = "beheer@chargecars.nl"
AGENT = "klantenservice@chargecars.nl"
CLIENT_ID = "client-123"
CLIENT_SECRET = "client-secret-abcdef-0123456789"  # noqa: S105  (the fake's)
VERIFIER = "qb-verifier-token-outside-7Kq2"  # noqa: S105
TYPO = "HUBSPOT_OAUTH_AUTORIZE_URL"
JAN = {
    "email": "jan.jansen@fleetlease.nl",
    "firstname": "Jan",
    "lastname": "Jansen",
    "phone": "06 87654321",  # as typed into HubSpot; the same number as CUSTOMER
    "jobtitle": "Wagenparkbeheerder",
}


# --- fakes and the deployment ------------------------------------------------------------


@pytest.fixture
def hubspot():
    yield from serving(FakeHubSpot())


@pytest.fixture
def quickbooks():
    yield from serving(FakeQuickBooks())


@pytest.fixture
def hubspot_oauth():
    yield from serving(FakeOAuthProvider(realm_id=None))


@pytest.fixture
def quickbooks_oauth():
    yield from serving(FakeOAuthProvider(realm_id=REALM))


whatsapp = pytest.fixture(fake_whatsapp_server, name="whatsapp")


@pytest.fixture
def receiver():
    # Its secret is known only once the endpoint is registered (step 2).
    yield from serving(FakeReceiver(secret="whsec_" + "A" * 32))


@pytest.fixture
def app(make_app):
    # Empties the database and Redis; this process only reads what the deployment did.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def hub(app, deployment, hubspot, quickbooks, hubspot_oauth, quickbooks_oauth, whatsapp):
    """The deployment, started: web and two workers, providers at their fakes."""
    topology = deployment(
        HUBSPOT_API_BASE=hubspot.url,
        HUBSPOT_OAUTH_AUTHORIZE_URL=hubspot_oauth.authorize_url,
        HUBSPOT_OAUTH_TOKEN_URL=hubspot_oauth.token_url,
        QUICKBOOKS_API_BASE=quickbooks.url,
        QUICKBOOKS_OAUTH_AUTHORIZE_URL=quickbooks_oauth.authorize_url,
        QUICKBOOKS_OAUTH_TOKEN_URL=quickbooks_oauth.token_url,
        **whatsapp_settings(whatsapp),
        # A deployer's typo of HUBSPOT_OAUTH_AUTHORIZE_URL (step 6).
        **{TYPO: "https://app-eu1.hubspot.com/oauth/authorize"},
    )
    topology.start_web()
    topology.start_worker()
    topology.start_worker()
    return topology


class Api:
    """HTTP to the deployment as one caller (a bearer token, or none)."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base_url + path, headers=self.headers, timeout=30, **kwargs
        )

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> dict:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        return answer.json()


def cli(topology: Topology, *commands: list[str]) -> list[dict]:
    """Run ``flask --app wsgi …`` commands side by side in the deployment's environment;
    the JSON each printed (each takes seconds to import the app on a busy machine)."""
    running = [
        subprocess.Popen(  # noqa: S603  (our own entry point)
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=topology.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    printed = []
    for command, process in zip(commands, running, strict=True):
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, (command, stderr)
        printed.append(json.loads(stdout.strip().splitlines()[-1]))
    return printed


def tokens(topology: Topology, **roles: str) -> dict[str, str]:
    """A user per e-mail address with its role, made by the CLI; each one's API token."""
    cli(
        topology,
        *(
            [
                "users",
                "create",
                email,
                "--name",
                role.title(),
                "--role",
                role,
                "--password",
                "outside-1234-pw",
            ]
            for email, role in roles.items()
        ),
    )
    made = cli(topology, *(["users", "token", email] for email in roles))
    return {email: answer["token"] for email, answer in zip(roles, made, strict=True)}


# --- the steps ---------------------------------------------------------------------------


def connect(api: Api, provider: str, oauth: FakeOAuthProvider, **fields) -> dict:
    """Create the integration, run its OAuth flow as the admin's client would; the answer."""
    created = api.ok(
        "POST",
        "/api/integrations",
        201,
        json={
            "provider": provider,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **fields,
        },
    )["data"]
    initiated = api.ok(
        "POST", "/api/integrations/oauth/initiate", json={"integration_id": created["id"]}
    )["data"]
    at_provider = requests.get(initiated["authorization_url"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = parse_qs(urlsplit(at_provider.headers["Location"]).query)
    callback = {"state": back["state"][0], "code": back["code"][0]}
    if "realmId" in back:
        callback["realmId"] = back["realmId"][0]
    connected = api.ok("POST", "/api/integrations/oauth/callback", json=callback)["data"]
    assert connected["status"] == "active", connected
    return connected


def sync_finished(api: Api, integration_id: str, job_id: str):
    def finished():
        jobs = api.ok("GET", f"/api/integrations/{integration_id}/sync")["data"]
        job = next(j for j in jobs if j["id"] == job_id)
        return job if job["status"] not in ("pending", "running") else None

    return wait_until(finished, SETTLE_SECONDS, "the sync finished", every=0.25)


def post_whatsapp(base_url: str, body: str, wamid: str, at: int) -> None:
    payload = wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan")],
        messages=[wa.text_message(CUSTOMER, body, wamid, at)],
    )
    raw, headers = wa.signed(payload)
    answer = requests.post(
        f"{base_url}/api/v1/webhooks/whatsapp", data=raw, headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text


def events_processed(count: int) -> bool:
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    db.session.rollback()
    return len(states) >= count and all(s == ProcessingState.PROCESSED for s in states)


def order_in_progress(number: str, total: str) -> Order:
    """The one thing made directly in the database: a customer's order being installed."""
    customer = Contact(display_name="Fleetlease BV", email=f"{number.lower()}@fleetlease.nl")
    db.session.add(customer)
    db.session.flush()
    order = Order(
        order_number=number,
        status=OrderStatus.IN_PROGRESS,
        account_contact_id=customer.id,
        total_amount=Decimal(total),
    )
    db.session.add(order)
    db.session.commit()
    return order


def record_payment(quickbooks: FakeQuickBooks, invoice: dict, amount: float) -> dict:
    """The bookkeeper records the payment in QuickBooks, through QuickBooks' own API."""
    answer = requests.post(
        f"{quickbooks.url}/v3/company/{REALM}/payment",
        params={"minorversion": "75"},
        headers={"Authorization": f"Bearer {quickbooks.token}"},
        json={
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": amount,
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Payment"]


def post_quickbooks(base_url: str, payment_id: str, verifier: str = VERIFIER):
    """QuickBooks' eventNotifications for one payment, signed as Intuit documents."""
    body = qbo_notification((payment_id, "Create", "2026-11-23T08:00:00.000Z"))
    digest = hmac.new(verifier.encode(), body.encode(), hashlib.sha256).digest()
    return requests.post(
        f"{base_url}/api/v1/webhooks/quickbooks",
        data=body,
        headers={
            "intuit-signature": base64.b64encode(digest).decode(),
            "Content-Type": "application/json",
        },
        timeout=30,
    )


def field_error(answer: requests.Response, status: int, field: str) -> None:
    assert answer.status_code == status, answer.text
    assert field in answer.json()["error"]["fields"], answer.text


# --- the flow ----------------------------------------------------------------------------


def test_the_hub_from_outside(
    app, hub, hubspot, quickbooks, hubspot_oauth, quickbooks_oauth, receiver
):
    issued = tokens(hub, **{ADMIN: "admin", AGENT: "agent"})
    admin = Api(hub.base_url, issued[ADMIN])
    agent = Api(hub.base_url, issued[AGENT])
    nobody = Api(hub.base_url, None)

    # 1. Integrations, secrets in and only their summary out.
    qbo = connect(admin, "quickbooks", quickbooks_oauth, verifier_token=VERIFIER)
    quickbooks.token = quickbooks_oauth.issued[-1]["access_token"]
    assert qbo["credentials"]["verifier_token"] == f"set …{VERIFIER[-4:]}"
    crm = connect(admin, "hubspot", hubspot_oauth)
    hubspot.token = hubspot_oauth.issued[-1]["access_token"]
    listed = admin.call("GET", "/api/integrations")
    assert listed.status_code == 200
    shown = listed.text + admin.call("GET", f"/api/integrations/{qbo['id']}").text
    for secret in (VERIFIER, CLIENT_SECRET, quickbooks.token, hubspot.token):
        assert secret not in shown
    assert {i["provider"] for i in listed.json()["data"]} == {"quickbooks", "hubspot"}

    # 2. The partner's receiver; its secret in the creating answer only.
    endpoint = admin.ok(
        "POST",
        "/api/webhooks",
        201,
        json={
            "url": f"{receiver.url}/hooks/chargecars",
            "max_attempts": 1,
            "events": ["invoice.paid", "payment.received"],
        },
    )["data"]
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]
    again = admin.call("GET", f"/api/webhooks/{endpoint['id']}")
    assert again.status_code == 200 and endpoint["secret"] not in again.text
    assert "secret" not in again.json()["data"]

    # 3. HubSpot contacts in, then the customer writes on WhatsApp: one contact.
    hubspot.add("contacts", JAN)
    started = admin.ok(
        "POST",
        f"/api/integrations/{crm['id']}/sync",
        202,
        json={"object_type": "contacts", "direction": "in"},
    )["data"]
    job = sync_finished(admin, crm["id"], started["id"])
    assert (job["status"], job["succeeded"], job["failed"]) == ("completed", 1, 0), job
    asked = {
        p
        for r in hubspot.requests_to("/crm/v3/objects/contacts")
        for p in r.args.get("properties", "").split(",")
    }
    assert {"phone", "jobtitle"} <= asked, asked
    now = int(time.time())
    post_whatsapp(hub.base_url, "Hoi, mijn laadpaal laadt niet", "wamid.outside.1", now - 5)
    post_whatsapp(hub.base_url, "Het lampje knippert rood", "wamid.outside.2", now)
    wait_until(lambda: events_processed(2), SETTLE_SECONDS, "both WhatsApp messages processed")
    [jan] = db.session.scalars(sa.select(Contact).where(Contact.phone == CUSTOMER_E164)).all()
    assert (jan.email, jan.job_title) == (JAN["email"], JAN["jobtitle"]), jan.display_name
    [thread] = db.session.scalars(sa.select(CommunicationThread)).all()
    assert thread.contact_id == jan.id
    texts = db.session.scalars(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.sender_contact_id == jan.id,
        )
    ).all()
    assert sorted(texts) == ["Het lampje knippert rood", "Hoi, mijn laadpaal laadt niet"]
    db.session.rollback()

    # 4. Order completed → invoice pushed → paid in QuickBooks → invoice.paid to the partner.
    order = order_in_progress("CC-2026-00777", "1499.00")
    admin.ok(
        "POST",
        f"/api/orders/{order.order_number}/status",
        json={"to_status": "completed", "reason": "installed"},
    )

    def pushed():
        invoices = list(quickbooks.entities["Invoice"].values())
        return [i for i in invoices if i.get("DocNumber") == order.order_number]

    [invoice] = wait_until(pushed, SETTLE_SECONDS, "the invoice pushed to QuickBooks")
    # The partner's receiver is down for the first callbacks; one attempt each.
    receiver.behave_next(times=2, status=503)
    payment = record_payment(quickbooks, invoice, 1499.0)
    told = post_quickbooks(hub.base_url, payment["Id"])
    assert told.status_code == 200, told.text

    def failed_deliveries():
        log = admin.ok("GET", f"/api/webhooks/{endpoint['id']}/deliveries")["data"]
        failed = {d["event_type"]: d for d in log if d["status"] == "failed"}
        return failed if len(failed) == 2 else None

    failed = wait_until(failed_deliveries, SETTLE_SECONDS, "both callbacks failed once")
    assert set(failed) == {"invoice.paid", "payment.received"}
    logged = failed["invoice.paid"]
    assert (logged["response_code"], logged["attempt_count"]) == (503, 1), logged
    [refused] = [e for e in receiver.events if e.event == "invoice.paid"]
    assert refused.webhook_id == logged["webhook_id"] and refused.answered == 503
    assert refused.payload["data"]["invoice"]["state"] == "paid", refused.payload
    assert refused.payload["data"]["invoice"]["amount_paid"] == "1499.00", refused.payload
    assert (refused.payload["type"], refused.payload["data"]["order_number"]) == (
        "invoice.paid",
        order.order_number,
    )

    retried = admin.ok(
        "POST", f"/api/webhooks/{endpoint['id']}/deliveries/{logged['id']}/retry", 202
    )["data"]
    assert retried["webhook_id"] == logged["webhook_id"]

    def delivered_again():
        return next((e for e in receiver.delivered() if e.event == "invoice.paid"), None)

    paid = wait_until(delivered_again, SETTLE_SECONDS, "invoice.paid re-sent by the retry")
    # The same message again: the same webhook-id, signed with the secret of step 2.
    assert paid.webhook_id == logged["webhook_id"] and paid.body == refused.body
    assert receiver.rejections == []

    def logged_delivered():
        log = admin.ok("GET", f"/api/webhooks/{endpoint['id']}/deliveries")["data"]
        one = next(d for d in log if d["id"] == logged["id"])
        return one if one["status"] == "delivered" else None

    done = wait_until(logged_delivered, SETTLE_SECONDS, "the delivery log saying delivered")
    assert (done["response_code"], done["attempt_count"]) == (200, 2), done
    assert [a["status_code"] for a in done["attempts"]] == [503, 200], done

    # 5. Errors from outside.
    for path in ("/api/webhooks", "/api/integrations"):
        assert nobody.call("GET", path).status_code == 401
        assert nobody.call("POST", path, json={}).status_code == 401
        assert agent.call("GET", path).status_code == 403
        assert agent.call("POST", path, json={}).status_code == 403
    for path in (
        f"/api/webhooks/{endpoint['id']}/deliveries",
        f"/api/integrations/{crm['id']}/sync",
    ):
        assert nobody.call("GET", path).status_code == 401
        assert agent.call("GET", path).status_code == 403
    retry_path = f"/api/webhooks/{endpoint['id']}/deliveries/{logged['id']}/retry"
    assert agent.call("POST", retry_path).status_code == 403
    assert Api(hub.base_url, "not-a-token").call("GET", "/api/webhooks").status_code == 401
    field_error(
        admin.call("POST", "/api/webhooks", json={"url": "not a url", "events": ["invoice.paid"]}),
        422,
        "url",
    )
    field_error(
        admin.call("POST", "/api/webhooks", json={"url": f"{receiver.url}/x", "events": ["nope"]}),
        422,
        "events",
    )
    field_error(admin.call("POST", "/api/integrations", json={"provider": "nope"}), 422, "provider")
    field_error(
        admin.call("PATCH", f"/api/integrations/{qbo['id']}", json={"verifier_token": "a b"}),
        422,
        "verifier_token",
    )
    forged = post_quickbooks(hub.base_url, payment["Id"], verifier="not-the-verifier-token")
    assert forged.status_code == 401, forged.text

    # 6. The mistyped variable, reported by every process at start-up; nothing crashed.
    for process in hub.processes:
        output = process.output()
        assert f"{TYPO} is not a setting Switchboard knows" in output, process.name
        assert "did you mean HUBSPOT_OAUTH_AUTHORIZE_URL?" in output, process.name
        assert "Traceback" not in output, process.tail(60)
