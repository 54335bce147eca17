"""Web Push end to end on a 375×812 phone.

A customer writes on the conversation of the technician's visit; the push job
sends it through the fake push service, which checks VAPID and decrypts it as
the phone's browser would. That decrypted message is handed to the phone's
service worker (Chromium's DevTools ``deliverPushMessage``, standing in for the
browser's push connection), which shows it as a notification that opens the
visit's conversation on /m/.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import opened
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.helpers import AuthActions, customer_writes
from tests.support.jobs import drain_queues
from tests.support.push_support import VAPID_SETTINGS, fake_push_service, visit_with_conversation

PHONE = {"width": 375, "height": 812}
push_service = pytest.fixture(fake_push_service, name="push_service")


@pytest.fixture
def app(make_app):
    with opened(make_app(**VAPID_SETTINGS)) as app:
        yield app


@pytest.mark.full_chromium
def test_a_customer_message_reaches_the_phone_as_a_notification(
    app, live_server, browser, make_user, push_service
):
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    order, channel, customer, _thread = visit_with_conversation(technician)

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    phone.grant_permissions(["notifications"], origin=live_server.url)
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        expect(page.get_by_test_id("push-toggle")).to_have_text("Meldingen aanzetten")

        # The phone's subscription, as its push service would have made it.
        subscription = push_service.subscribe()
        client = app.test_client()
        auth = AuthActions(client)
        auth.login(technician.email)
        answer = client.post(
            "/m/push/subscription",
            json=subscription,
            headers={"X-CSRFToken": auth.csrf_token("/m/")},
        )
        assert answer.status_code == 201

        customer_writes(channel, customer, "wamid.push", "Ik sta bij het hek, code 4711?")
        drain_queues(app)
        assert push_service.rejections == []
        [pushed] = push_service.pushes_to(subscription["endpoint"])

        devtools = phone.new_cdp_session(page)
        registrations = []
        devtools.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        devtools.send("ServiceWorker.enable")
        for _ in range(50):
            if any(r["scopeURL"].endswith("/m/") for r in registrations):
                break
            page.wait_for_timeout(100)
        registration = next(r for r in registrations if r["scopeURL"].endswith("/m/"))
        devtools.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server.url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(pushed),
            },
        )
        shown = None
        for _ in range(50):  # the worker shows it within moments
            shown = page.evaluate(
                """() => navigator.serviceWorker.ready
                     .then(r => r.getNotifications())
                     .then(list => list.map(
                       n => ({title: n.title, body: n.body, url: n.data.url})))"""
            )
            if shown:
                break
            page.wait_for_timeout(100)
        assert shown == [
            {
                "title": "CC-2026-00042: bericht van Jan Jansen",
                "body": "Ik sta bij het hek, code 4711?",
                "url": f"/m/visits/{order.id}/conversation",
            }
        ]
    finally:
        phone.close()
