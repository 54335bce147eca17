"""ROVIDA's signed work-order notices: verified, stored once, and one order per work order.

``POST /api/v1/webhooks/rovida`` carries ``Rovida-Signature: t=<unix>,v1=<hex HMAC-SHA256
of "{t}.{body}">`` with the integration's webhook secret (the format we define in
``app/integrations/connectors/rovida.py``; the fake signs it the same way).
"""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Order, WorkOrderLink
from app.platform.models.enums import OrderStatus, ProcessingState
from tests.conftest import opened
from tests.fakes.rovida import API_KEY, FakeRovida
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_queues

SECRET = "rovida-webhook-secret-0000"  # noqa: S105
URL = "/api/v1/webhooks/rovida"


@pytest.fixture
def rovida():
    yield from serving(FakeRovida())


@pytest.fixture
def app(make_app, rovida):
    with opened(make_app(ROVIDA_API_BASE=rovida.url)) as app:
        yield app


@pytest.fixture
def integration(app, make_user):
    make_user("technician", email="tech@switchboard.test")
    record = factories.integration(
        "rovida",
        credentials={"api_key": API_KEY, "webhook_secret": SECRET},
        config={"dispatch_technician": "tech@switchboard.test"},
    )
    db.session.commit()
    return record


def _post(client, rovida, work_order_id, event_id, secret=SECRET, **kwargs):
    body, headers = rovida.notice(work_order_id, event_id, secret, **kwargs)
    return client.post(URL, data=body, headers=headers)


def test_a_signed_notice_makes_one_dispatched_order_however_often_it_comes(
    app, client, rovida, integration, fake_pdok
):
    rovida.add_work_order("wo_55")

    first = _post(client, rovida, "wo_55", "evt_1")
    redelivered = _post(client, rovida, "wo_55", "evt_1")
    updated = _post(client, rovida, "wo_55", "evt_2", event_type="work_order.updated")

    assert first.status_code == 200 and first.get_json()["data"] == {
        "received": 1,
        "duplicates": 0,
    }
    assert redelivered.get_json()["data"] == {"received": 0, "duplicates": 1}
    assert updated.get_json()["data"] == {"received": 1, "duplicates": 0}
    drain_queues(app)
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    assert states == [ProcessingState.PROCESSED, ProcessingState.PROCESSED]
    [order] = db.session.scalars(sa.select(Order)).all()
    assert order.status == OrderStatus.SCHEDULED
    assert order.partner_external_references["work_order_id"] == "wo_55"
    [link] = db.session.scalars(sa.select(WorkOrderLink)).all()
    assert link.order_id == order.id and link.integration_id == integration.id


def test_unsigned_wrongly_signed_stale_and_malformed_notices_are_refused(
    app, client, rovida, integration
):
    rovida.add_work_order("wo_56")
    body, headers = rovida.notice("wo_56", "evt_9", SECRET)
    unsigned = client.post(URL, data=body, headers={"Content-Type": "application/json"})
    wrong = _post(client, rovida, "wo_56", "evt_9", secret="someone-else")  # noqa: S106
    stale = _post(client, rovida, "wo_56", "evt_9", timestamp=int(time.time()) - 3600)
    assert [r.status_code for r in (unsigned, wrong, stale)] == [401, 401, 401]
    assert stale.get_json()["error"]["code"] == "stale_signature"

    bad = b'{"id": "evt_10", "type": "work_order.created", "data": {}}'
    stamp = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{stamp}.".encode() + bad, hashlib.sha256)
    malformed = client.post(
        URL,
        data=bad,
        headers={
            "Rovida-Signature": f"t={stamp},v1={signature.hexdigest()}",
            "Content-Type": "application/json",
        },
    )
    assert malformed.status_code == 400
    assert "data.work_order" in malformed.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
