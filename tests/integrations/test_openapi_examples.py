"""Every request example on /api/docs is accepted by the API.

The examples are read from /api/v1/openapi.json as a reader of the docs sees
them, and each is posted to its operation with the credentials it needs (a
partner key, a signature, an admin's token). What an example names (the order
of the partner order example, a conversation) is created first, as a partner or
colleague would have it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from app.integrations.api_docs.examples import ORDER_NUMBER, PARTNER_ORDER_ID, THREAD_ID
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Order, WebhookEndpoint
from app.platform.models.enums import ChannelType, TokenKind
from tests.conftest import opened
from tests.support import factories
from tests.support.partner_support import make_partner

MAKE_SECRET = "make-example-secret"


@pytest.fixture
def app(make_app, fake_pdok):
    # No jobs run: the examples are judged by the answer, and nothing leaves.
    built = make_app(
        start_embedded_worker=False,
        MAKE_WEBHOOK_SECRET=MAKE_SECRET,
        PDOK_API_BASE=fake_pdok.url,
        STRIPE_API_BASE="http://127.0.0.1:9/stripe",
    )
    with opened(built) as app:
        yield app


def request_examples(spec: dict) -> list[tuple[str, str, object]]:
    """(method, path, example body) for every example of every request body."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "example" in media:
                    found.append((method, path, media["example"]))
                for example in media.get("examples", {}).values():
                    found.append((method, path, example["value"]))
    return found


def test_every_modelled_request_body_has_an_example(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = media["schema"]
                if "$ref" in schema:
                    assert "example" in media, f"{method} {path} has no example"
                if "oneOf" in schema:
                    assert len(media["examples"]) == len(schema["oneOf"]), f"{method} {path}"


def test_every_example_is_accepted(app, client, make_user):
    spec = client.get("/api/v1/openapi.json").get_json()
    examples = request_examples(spec)
    partner = make_partner("Volvo Dealer")
    admin = make_user("admin")
    _, token = issue_token(TokenKind.PERSONAL, "docs", user_id=admin.id)
    customer = factories.contact(phone="+31687654321", email="jan@example.com")
    thread = factories.thread(factories.channel(ChannelType.WHATSAPP_BUSINESS), customer)
    db.session.execute(
        sa.update(CommunicationThread)
        .where(CommunicationThread.id == thread.id)
        .values(id=uuid.UUID(THREAD_ID))
    )
    integration = factories.integration("stripe", credentials={"api_key": "sk_test_docs"})
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    path_values = {
        "partner_id": partner.id,
        "integration_id": str(integration.id),
        "key": ORDER_NUMBER,
        "partner_order_id": PARTNER_ORDER_ID,
    }

    def post(method: str, path: str, body) -> object:
        raw = json.dumps(body)
        headers = {"Content-Type": "application/json"}
        if path.startswith("/api/v1/partners/"):
            headers.update(partner.headers)
        elif path.startswith("/api/v1/webhooks/partner-status/"):
            msg_id = f"msg_{uuid.uuid4().hex}"
            now = datetime.now(timezone.utc)
            headers.update(
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": Webhook(partner.secret).sign(msg_id, now, raw),
                }
            )
        elif path.startswith("/api/v1/webhooks/make/"):
            path_values["scenario"] = SCENARIO_OF[tuple(sorted(body))]
            signature = hmac.new(MAKE_SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
            headers["X-Make-Signature"] = signature
        else:
            headers.update(bearer)
        url = path.format(**path_values)
        return client.open(url, method=method.upper(), data=raw, headers=headers)

    # The partner's order first: the status update and Make's examples name it.
    # Its change comes next, while it is unplanned (the status examples move it on);
    # an endpoint is created before it is changed; the order is cancelled last.
    ordered = sorted(
        examples,
        key=lambda e: (
            e[1] != "/api/v1/partners/{partner_id}/orders",
            e[1] != "/api/v1/partners/{partner_id}/orders/{partner_order_id}",
            e[1].endswith("/cancel"),
            e[0] == "patch",
        ),
    )
    answers = []
    for method, path, body in ordered:
        if path == "/api/webhooks/{endpoint_id}":
            path_values["endpoint_id"] = str(db.session.scalar(sa.select(WebhookEndpoint.id)))
        if path.startswith("/api/v1/webhooks/make/"):
            _number_the_order(ORDER_NUMBER)
        response = post(method, path, body)
        answers.append((method, path, response.status_code, response.get_json()))
    refused = [a for a in answers if not 200 <= a[2] < 300]
    assert refused == []
    # Every modelled request body was tried: partner API, webhooks, send API, hub.
    assert len(answers) >= 14


SCENARIO_OF = {
    ("customer", "execution_id", "notes", "products"): "order-created",
    ("completed_at", "execution_id", "notes", "order_number", "technician"): "visit-completed",
    (
        "amount",
        "currency",
        "execution_id",
        "method",
        "order_number",
        "paid_at",
        "payment_reference",
    ): "payment-received",
    (
        "comment",
        "execution_id",
        "feedback_id",
        "order_number",
        "scale",
        "score",
    ): "customer-feedback",
}


def _number_the_order(number: str) -> None:
    """The example's order number on the partner's order (numbers carry the year)."""
    order = db.session.scalar(sa.select(Order).where(Order.partner_order_id == PARTNER_ORDER_ID))
    order.order_number = number
    db.session.commit()
