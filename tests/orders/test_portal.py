"""The partner portal: confinement, two-factor, pages, invitations and the language switch."""

from __future__ import annotations

import re

import pytest
import socketio
import sqlalchemy as sa

from app.orders.portal.orders import PAGE_SIZE
from app.platform.auth.two_factor import disable_two_factor
from app.platform.extensions import db
from app.platform.models import ApiToken, AuditLog, OutboundDelivery, PartnerIntegration, User
from app.platform.models.enums import OutboundState
from tests.support.helpers import PASSWORD, csrf_token_from, enroll_two_factor
from tests.support.live_server import signed_in_session, socket_client
from tests.support.partner_support import make_partner
from tests.support.portal_support import build_world, make_order


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def sign_in(auth, fixture):
    response = auth.login(fixture.user_email)
    assert response.status_code == 302
    return response


def form_token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


# --- confinement -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/inbox", "/planning/", "/partners/", "/analytics/", "/admin/users", "/settings/signature"],
)
def test_partner_user_gets_no_staff_page(client, auth, world, path):
    sign_in(auth, world["alpha"])
    response = client.get(path)
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(
    "path", ["/api/communication/threads", "/api/v1/orders", "/api/notifications"]
)
def test_partner_user_gets_no_api(client, auth, world, path):
    sign_in(auth, world["alpha"])
    response = client.get(path)
    assert response.status_code == 404


def test_partner_user_reads_the_public_api_description(client, auth, world):
    sign_in(auth, world["alpha"])
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_partner_user_lands_on_the_portal(client, auth, world):
    response = sign_in(auth, world["alpha"])
    assert response.headers["Location"].endswith("/portal/")
    page = client.get("/portal/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ALPHA-1" in html
    assert 'data-testid="portal-nav"' in html
    assert 'data-testid="mainnav"' not in html  # no agent navigation


def test_staff_do_not_use_the_portal(client, auth, make_user, world):
    admin = make_user("admin")
    auth.login(admin.email)
    assert client.get("/portal/").status_code == 403
    assert client.get(f"/portal/orders/{world['alpha'].orders[0].id}").status_code == 403
    agent = make_user("agent")
    auth.logout()
    auth.login(agent.email)
    assert client.get("/portal/keys").status_code == 403


def test_partner_user_socket_connection_is_refused(live_server, world):
    browser = signed_in_session(live_server.url, world["alpha"].user_email, PASSWORD)
    with pytest.raises(socketio.exceptions.ConnectionError):
        with socket_client(live_server.url, browser):
            pass


def test_two_factor_is_required_before_any_portal_page(client, auth, make_user):
    partner = make_partner("Gamma")
    user = make_user(
        "partner", email="g@portal.test", partner_organization_id=partner.organization.id
    )
    response = auth.login(user.email)
    assert response.headers["Location"].endswith("/portal/")
    for path in ("/portal/", "/portal/keys", "/portal/deliveries", "/portal/webhook"):
        answer = client.get(path)
        assert answer.status_code == 302
        assert "/settings/security" in answer.headers["Location"]
    # The set-up page itself opens, and says it is needed.
    assert client.get("/settings/security").status_code == 200
    enroll_two_factor(user)
    auth.logout()
    auth.login(user.email)  # now with a code
    assert client.get("/portal/").status_code == 200


# --- orders ----------------------------------------------------------------------


def test_orders_list_search_and_filters(client, auth, world):
    sign_in(auth, world["alpha"])
    html = client.get("/portal/").get_data(as_text=True)
    assert "ALPHA-1" in html and "ALPHA-T" in html
    assert "BETA-1" not in html
    # The sub-partner's orders, marked as theirs.
    assert "SUB-1" in html and "data-sub-partner" in html
    assert "BETA" not in client.get("/portal/?q=BETA-1").get_data(as_text=True).split("<tbody>")[1]
    only_test = client.get("/portal/?mode=test").get_data(as_text=True)
    assert "ALPHA-T" in only_test and "ALPHA-1</a>" not in only_test
    by_postal = client.get("/portal/?q=3511ab").get_data(as_text=True)
    assert "ALPHA-1" in by_postal and "SUB-1" not in by_postal
    by_name = client.get("/portal/?q=klant+sub").get_data(as_text=True)
    assert "SUB-1" in by_name and "ALPHA-1" not in by_name
    by_number = client.get(f"/portal/?q={world['alpha'].orders[0].order_number}")
    assert "ALPHA-1" in by_number.get_data(as_text=True)
    assert "ALPHA-1" not in client.get("/portal/?status=completed").get_data(as_text=True)
    assert client.get("/portal/?since=not-a-date").status_code == 400


def test_order_detail_shows_partner_notes_never_internal_ones(client, auth, world):
    sign_in(auth, world["alpha"])
    order = world["alpha"].orders[0]
    html = client.get(f"/portal/orders/{order.id}").get_data(as_text=True)
    assert "Approved, we will call the customer." in html
    assert "INTERNAL" not in html
    assert "Wallbox 11 kW" in html
    assert "RECEIVED" in html  # the partner's word for "new"


def test_parent_sees_sub_partner_order_read_only_but_not_its_keys_or_deliveries(
    client, auth, world
):
    sign_in(auth, world["alpha"])
    sub = world["sub"]
    page = client.get(f"/portal/orders/{sub.orders[0].id}")
    assert page.status_code == 200
    assert 'data-testid="sub-partner-order"' in page.get_data(as_text=True)
    assert client.get(f"/portal/deliveries/{sub.deliveries[0].id}").status_code == 404
    keys = client.get("/portal/keys").get_data(as_text=True)
    sub_prefix = db.session.get(ApiToken, sub.key_ids[0]).prefix
    assert sub_prefix not in keys
    deliveries = client.get("/portal/deliveries").get_data(as_text=True)
    assert str(sub.deliveries[0].id) not in deliveries


def test_sub_partner_does_not_see_the_parents_orders(client, auth, world):
    sign_in(auth, world["sub"])
    html = client.get("/portal/").get_data(as_text=True)
    assert "SUB-1" in html and "ALPHA-1" not in html
    assert client.get(f"/portal/orders/{world['alpha'].orders[0].id}").status_code == 404


# --- deliveries --------------------------------------------------------------------


def test_deliveries_list_detail_and_replay(client, auth, world):
    sign_in(auth, world["alpha"])
    delivery = world["alpha"].deliveries[0]
    html = client.get("/portal/deliveries").get_data(as_text=True)
    assert str(delivery.id) in html and "HTTP 500" in html
    detail = client.get(f"/portal/deliveries/{delivery.id}").get_data(as_text=True)
    assert "upstream exploded" in detail and "status_changed" in detail
    token = form_token(client, f"/portal/deliveries/{delivery.id}")
    response = client.post(f"/portal/deliveries/{delivery.id}/replay", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(OutboundDelivery, delivery.id).state == OutboundState.PENDING
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditLog.action == "PORTAL_DELIVERY_REPLAYED")
    )


def test_replay_without_csrf_is_refused(client, auth, world):
    sign_in(auth, world["alpha"])
    delivery = world["alpha"].deliveries[0]
    assert client.post(f"/portal/deliveries/{delivery.id}/replay").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboundDelivery, delivery.id).state == OutboundState.FAILED


def test_replay_all_failed_since(client, auth, world):
    sign_in(auth, world["alpha"])
    token = form_token(client, "/portal/deliveries")
    response = client.post(
        "/portal/deliveries/replay-failed",
        data={"csrf_token": token, "since": "2000-01-01T00:00"},
        follow_redirects=True,
    )
    assert "2 failed callbacks are queued" in response.get_data(as_text=True)
    db.session.expire_all()
    states = {
        d.id: db.session.get(OutboundDelivery, d.id).state
        for fixture in world.values()
        for d in fixture.deliveries
    }
    assert all(states[d.id] == OutboundState.PENDING for d in world["alpha"].deliveries)
    assert all(states[d.id] == OutboundState.FAILED for d in world["beta"].deliveries)
    assert all(states[d.id] == OutboundState.FAILED for d in world["sub"].deliveries)


# --- keys, webhook, allow-list -------------------------------------------------------


def test_create_key_shown_once_and_revoke(client, auth, world):
    sign_in(auth, world["alpha"])
    token = form_token(client, "/portal/keys")
    response = client.post(
        "/portal/keys",
        data={
            "csrf_token": token,
            "name": "Sandbox",
            "mode": "test",
            "scope": "read",
            "expires": "2099-01-01",
        },
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    plain = re.search(r'data-testid="new-api-key"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert plain and plain.group(1).startswith("sbk_test_")
    key = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Sandbox"))
    assert key.partner_organization_id == world["alpha"].organization.id
    assert str(key.scope) == "read" and key.expires_at is not None
    keys_page = client.get("/portal/keys").get_data(as_text=True)
    assert keys_page.count("new-api-key") == 0
    # The partner id the API addresses need is on the page (the guide sends them here).
    shown_id = re.search(r'data-testid="partner-id"[^>]*>([^<]+)<', keys_page).group(1)
    assert shown_id == str(world["alpha"].organization.id)
    confirm = client.get(f"/portal/keys/{key.id}/revoke")
    assert confirm.status_code == 200
    token = csrf_token_from(confirm.get_data(as_text=True))
    assert (
        client.post(f"/portal/keys/{key.id}/revoke", data={"csrf_token": token}).status_code == 303
    )
    db.session.expire_all()
    assert db.session.get(ApiToken, key.id).revoked_at is not None


def test_webhook_url_is_validated_and_saved(client, auth, world):
    sign_in(auth, world["alpha"])
    token = form_token(client, "/portal/webhook")
    bad = client.post(
        "/portal/webhook",
        data={
            "csrf_token": token,
            "webhook_url": "ftp://nope",
            "webhook_events": ["status_changed"],
        },
    )
    assert bad.status_code == 422
    good = client.post(
        "/portal/webhook",
        data={
            "csrf_token": token,
            "webhook_url": "https://alpha.example/new-hooks",
            "webhook_events": ["status_changed"],
        },
    )
    assert good.status_code == 303
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, world["alpha"].integration.id)
    assert integration.webhook_url == "https://alpha.example/new-hooks"
    assert integration.webhook_events == ["status_changed"]


def test_secret_rotation_shows_new_secret_once_and_overlap(client, auth, world):
    sign_in(auth, world["alpha"])
    old = world["alpha"].partner.secret
    token = form_token(client, "/portal/webhook")
    response = client.post(
        "/portal/webhook/secret", data={"csrf_token": token, "overlap_hours": "24"}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert 'data-testid="new-webhook-secret"' in html and 'data-testid="overlap-until"' in html
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, world["alpha"].integration.id)
    assert integration.previous_webhook_secret == old
    assert integration.webhook_secret != old and integration.webhook_secret in html


def test_allowlist_is_validated_and_saved(client, auth, world):
    sign_in(auth, world["alpha"])
    token = form_token(client, "/portal/allowlist")
    bad = client.post("/portal/allowlist", data={"csrf_token": token, "ip_allowlist": "not-an-ip"})
    assert bad.status_code == 422
    good = client.post(
        "/portal/allowlist",
        data={"csrf_token": token, "ip_allowlist": "203.0.113.0/24\n198.51.100.7"},
    )
    assert good.status_code == 303
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, world["alpha"].integration.id)
    assert integration.ip_allowlist == ["203.0.113.0/24", "198.51.100.7/32"]


def test_performance_shows_own_figures_only(client, auth, world):
    sign_in(auth, world["alpha"])
    html = client.get("/portal/performance").get_data(as_text=True)
    assert 'data-testid="portal-performance"' in html
    assert "Beta" not in html


# --- language ------------------------------------------------------------------------


def test_language_switch(client, auth, world):
    sign_in(auth, world["alpha"])
    assert "Orders" in client.get("/portal/").get_data(as_text=True)
    token = form_token(client, "/portal/")
    response = client.post(
        "/portal/language", data={"csrf_token": token, "language": "nl", "next": "/portal/keys"}
    )
    assert response.headers["Location"].endswith("/portal/keys")
    html = client.get("/portal/").get_data(as_text=True)
    assert "Live of test" in html and "Uw ordernummer" in html
    db.session.expire_all()
    assert (
        db.session.scalar(sa.select(User.language).where(User.email == "alpha@portal.test")) == "nl"
    )


# --- invitations ---------------------------------------------------------------------


def test_admin_invites_and_deactivates_a_portal_user(client, auth, make_user):
    partner = make_partner("Delta")
    admin = make_user("admin")
    auth.login(admin.email)
    page = client.get(f"/partners/{partner.id}")
    assert 'data-testid="portal-users"' in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        f"/partners/{partner.id}/portal-users",
        data={
            "csrf_token": token,
            "name": "Pia Partner",
            "email": "pia@delta.example",
            "language": "en",
        },
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    link = re.search(
        r'data-testid="invitation-link">([^<]+)<', response.get_data(as_text=True)
    ).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "pia@delta.example"))
    assert str(user.role) == "partner" and user.partner_organization_id == partner.organization.id
    auth.logout()
    path = link.replace("http://127.0.0.1:5000", "")
    assert path.startswith("/portal/welcome/")
    welcome = client.get(path)
    assert welcome.status_code == 200
    token = csrf_token_from(welcome.get_data(as_text=True))
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "password": "a-long-password",
            "password_again": "a-long-password",
        },
    )
    assert done.status_code == 303
    assert client.get(path).status_code == 404  # the link works once
    response = auth.login("pia@delta.example", "a-long-password")
    assert response.headers["Location"].endswith("/portal/")
    auth.logout()
    auth.login(admin.email)
    # A lost password: a new link sets a new one.
    token = form_token(client, f"/partners/{partner.id}")
    renewed = client.post(
        f"/partners/{partner.id}/portal-users/{user.id}/link", data={"csrf_token": token}
    )
    assert renewed.status_code == 201
    new_path = (
        re.search(r'data-testid="invitation-link">([^<]+)<', renewed.get_data(as_text=True))
        .group(1)
        .replace("http://127.0.0.1:5000", "")
    )
    assert new_path != path and client.get(new_path).status_code == 200
    token = form_token(client, f"/partners/{partner.id}")
    response = client.post(
        f"/partners/{partner.id}/portal-users/{user.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active_account is False


def test_turning_the_authenticator_off_closes_the_portal(client, auth, world):
    sign_in(auth, world["alpha"])
    assert client.get("/portal/").status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == world["alpha"].user_email))
    disable_two_factor(user)
    db.session.commit()
    response = client.get("/portal/")
    assert response.status_code == 302 and "/settings/security" in response.headers["Location"]


def test_orders_are_paged(client, auth, world):
    for n in range(PAGE_SIZE):
        make_order(
            world["beta"].partner, partner_order_id=f"MANY-{n}", customer="Veel", postal="1011 EF"
        )
    db.session.commit()
    sign_in(auth, world["beta"])
    first = client.get("/portal/").get_data(as_text=True)
    assert 'rel="next"' in first and "Page 1 of 2" in first
    second = client.get("/portal/?page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and second.count("data-order=") == PAGE_SIZE + 2 - PAGE_SIZE
