"""The sandbox walk in the portal: sandbox order, replayed callback, rotated secret.

A test key makes a test order, the sandbox moves it to completed, the partner
user (signed in with a code) finds it and its callbacks in the portal, and
sends the one that failed again; the fake partner endpoint verifies every
signature. Then the partner rotates its sandbox signing secret in the portal: the next
callback, sent during the overlap, verifies with the old and with the new
secret in the ``standardwebhooks`` library, as the partner's verifier would.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.orders.partners.keys import issue_partner_key
from app.platform.extensions import db
from app.platform.models.enums import KeyMode
from tests.e2e.test_sign_in import sign_in
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import enroll_two_factor
from tests.support.jobs import drain_until
from tests.support.partner_support import add_articles, line_items_order, make_partner

STATUSES = ("approved", "scheduled", "in_progress", "completed")


def test_test_order_moved_to_completed_is_seen_and_a_callback_replayed(
    app, live_server, browser, make_user, fake_pdok
):
    receiver = FakeReceiver("whsec_placeholder").start()
    try:
        # Test orders' callbacks go to the sandbox's own URL, signed with its own
        # secret.
        partner = make_partner(
            sandbox_webhook_url=receiver.url + "/hooks/chargecars",
            sandbox_webhook_events=["order_created", "status_changed"],
            max_delivery_attempts=1,
        )
        receiver.secret = partner.integration.sandbox_webhook_secret
        add_articles(partner)
        _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
        db.session.commit()
        test_key = {"X-API-Key": plain}
        user = make_user(
            "partner", email="pia@groendus.example", partner_organization_id=partner.organization.id
        )
        enroll_two_factor(user)

        api = app.test_client()
        receiver.behave_next(times=1, status=500)  # the first callback fails
        made = api.post(
            f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test_key
        )
        assert made.status_code == 201, made.get_json()
        drain_until(app, lambda: len(receiver.events) >= 1, timeout=20)
        url = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123/status"
        for status in STATUSES:
            moved = api.post(
                url, json={"status": status, "partner_note": f"note {status}"}, headers=test_key
            )
            assert moved.status_code == 200, moved.get_json()
        drain_until(app, lambda: len(receiver.delivered()) >= 4, timeout=30)

        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        sign_in(page, live_server.url, user.email)
        page.wait_for_url(f"{live_server.url}/portal/")
        page.goto(f"{live_server.url}/portal/?mode=test")
        row = page.locator("tr[data-order]").filter(has_text="GRO-2026-000123")
        expect(row).to_contain_text("DELIVERED")  # the partner's word for completed
        expect(row.locator("[data-test-marker]")).to_be_visible()
        row.get_by_role("link", name="GRO-2026-000123").click()
        expect(page.get_by_test_id("order-history")).to_contain_text("note completed")

        page.goto(f"{live_server.url}/portal/deliveries")
        table = page.get_by_test_id("deliveries-table")
        expect(table.locator("tr[data-delivery]")).to_have_count(5)
        failed = table.locator('tr[data-state="failed"]')
        expect(failed).to_have_count(1)
        expect(failed).to_contain_text("HTTP 500")
        failed.get_by_test_id("replay").click()
        expect(page.locator(".flash")).to_be_visible()
        drain_until(app, lambda: len(receiver.delivered()) >= 5, timeout=30)
        page.goto(f"{live_server.url}/portal/deliveries?state=delivered")
        expect(page.get_by_test_id("deliveries-table").locator("tr[data-delivery]")).to_have_count(
            5
        )
        assert receiver.rejections == []
        assert all(event.payload["test"] is True for event in receiver.delivered())

        old_secret = receiver.secret
        page.goto(f"{live_server.url}/portal/webhook")
        page.get_by_test_id("rotate-sandbox-secret").click()
        new_secret = page.get_by_test_id("new-sandbox-webhook-secret").inner_text().strip()
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        expect(page.get_by_test_id("overlap-until")).to_be_visible()
        # The fake endpoint checks the hex signature too, which only the new secret makes.
        receiver.secret = new_secret
        second = api.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order("GRO-2026-000124"),
            headers=test_key,
        )
        assert second.status_code == 201, second.get_json()
        drain_until(app, lambda: len(receiver.delivered()) >= 6, timeout=30)
        during_overlap = receiver.delivered()[-1]
        assert during_overlap.payload["partner_order_id"] == "GRO-2026-000124"
        for secret in (old_secret, new_secret):
            assert Webhook(secret).verify(during_overlap.body, during_overlap.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(during_overlap.body, during_overlap.headers)
        assert receiver.rejections == []
    finally:
        receiver.stop()
