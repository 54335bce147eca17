"""Secret rotation from the portal: during the overlap a callback verifies with both secrets.

Checked with the ``standardwebhooks`` library, as a partner's verifier would:
the callback sent after the rotation carries a signature for the new secret
and one for the old, so either verifier accepts the same delivery.
"""

from __future__ import annotations

import re

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.orders.deliveries.services import send_test_event
from app.platform.extensions import db
from app.platform.models import PartnerIntegration, User
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import csrf_token_from, enroll_two_factor
from tests.support.jobs import drain_until
from tests.support.partner_support import make_partner


def test_rotated_secret_and_old_one_both_verify_during_the_overlap(app, client, auth, make_user):
    receiver = FakeReceiver("whsec_placeholder").start()
    try:
        partner = make_partner(webhook_url=receiver.url + "/hooks", webhook_events=["test"])
        old_secret = partner.integration.webhook_secret
        user = make_user(
            "partner", email="pia@portal.test", partner_organization_id=partner.organization.id
        )
        enroll_two_factor(user)
        auth.login(user.email)
        token = csrf_token_from(client.get("/portal/webhook").get_data(as_text=True))
        rotated = client.post(
            "/portal/webhook/secret", data={"csrf_token": token, "overlap_hours": "24"}
        )
        assert rotated.status_code == 201
        new_secret = re.search(
            r'data-testid="new-webhook-secret"[^>]*>([^<]+)<', rotated.get_data(as_text=True)
        ).group(1)
        assert new_secret != old_secret
        # The fake endpoint also checks the hex X-ChargeCars-Signature, which only
        # the current secret makes; the old secret's verifier is checked below.
        receiver.secret = new_secret

        db.session.expire_all()
        integration = db.session.get(PartnerIntegration, partner.integration.id)
        send_test_event(integration, db.session.get(User, user.id))  # commits, queues
        drain_until(app, lambda: len(receiver.events) >= 1, timeout=20)
        event = receiver.events[-1]
        assert receiver.rejections == []
        assert len(event.headers["Webhook-Signature"].split()) == 2
        for secret in (old_secret, new_secret):
            assert Webhook(secret).verify(event.body, event.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(event.body, event.headers)
    finally:
        receiver.stop()
