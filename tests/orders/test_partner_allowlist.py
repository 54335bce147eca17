"""IP allow-list and key scope on the partner API.

The allow-list is judged on werkzeug's ``remote_addr``: ``X-Forwarded-For`` is
believed only through ``TRUSTED_PROXY_HOPS`` proxies (ProxyFix), tested with
and without one.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.orders.partners.allowlist import is_allowed, parse_ip_allowlist, save_ip_allowlist
from app.orders.partners.config import ConfigInvalid
from app.orders.partners.keys import issue_partner_key
from app.platform.auth.tokens import find_token
from app.platform.extensions import db
from app.platform.models import ApiToken, AuditLog, PartnerIntegration
from app.platform.models.enums import KeyScope, TokenKind
from tests.conftest import opened
from tests.support.helpers import csrf_token_from
from tests.support.partner_support import make_partner

OFFICE = "203.0.113.0/24"


def _status(client, partner, key=None, remote="127.0.0.1", forwarded=None):
    """A read of one order's status: 404 (unknown order) once the key is let in."""
    headers = {"X-API-Key": key or partner.api_key}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return client.get(
        f"/api/v1/partners/{partner.id}/orders/NOPE-1/status",
        headers=headers,
        environ_base={"REMOTE_ADDR": remote},
    )


def _allow(partner, text: str) -> None:
    save_ip_allowlist(partner.integration, text, None)
    db.session.commit()


# --- parsing -------------------------------------------------------------------------


def test_entries_are_parsed_normalised_and_deduplicated():
    text = "203.0.113.0/24, 198.51.100.7\n2001:DB8::/32;198.51.100.7\n\n::ffff:0:0/96"
    assert parse_ip_allowlist(text) == [
        "203.0.113.0/24",
        "198.51.100.7/32",
        "2001:db8::/32",
        "::ffff:0:0/96",
    ]
    assert parse_ip_allowlist("  ") == []


@pytest.mark.parametrize("bad", ["203.0.113.300", "10.0.0.7/24", "example.com", "2001:db8::/129"])
def test_a_bad_entry_is_refused_by_name(bad):
    with pytest.raises(ConfigInvalid) as refused:
        parse_ip_allowlist(f"203.0.113.0/24\n{bad}")
    assert bad in refused.value.fields["ip_allowlist"]


def test_at_most_fifty_networks():
    fifty_one = "\n".join(f"10.0.{n}.0/24" for n in range(51))
    with pytest.raises(ConfigInvalid):
        parse_ip_allowlist(fifty_one)
    assert len(parse_ip_allowlist("\n".join(f"10.0.{n}.0/24" for n in range(50)))) == 50


def test_membership_ipv4_ipv6_and_mapped_addresses(app):
    partner = make_partner()
    integration = partner.integration
    assert is_allowed(integration, "192.0.2.1")  # an empty list: anywhere
    _allow(partner, f"{OFFICE}\n2001:db8::/32")
    assert is_allowed(integration, "203.0.113.9")
    assert is_allowed(integration, "2001:db8::1")
    assert is_allowed(integration, "::ffff:203.0.113.9")
    assert not is_allowed(integration, "203.0.114.1")
    assert not is_allowed(integration, "2001:db9::1")
    assert not is_allowed(integration, "")
    assert not is_allowed(integration, "not-an-address")


# --- on the API ------------------------------------------------------------------------


def test_a_key_used_from_outside_the_list_gets_403_naming_the_address(app, client):
    partner = make_partner()
    _allow(partner, OFFICE)

    refused = _status(client, partner, remote="198.51.100.20")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "ip_not_allowed"
    assert error["message"] == (
        "Requests from 198.51.100.20 are not allowed for this partner's API keys."
    )

    allowed = _status(client, partner, remote="203.0.113.9")
    assert allowed.status_code == 404
    token = find_token(partner.api_key, TokenKind.PARTNER)
    db.session.refresh(token)
    assert token.last_used_ip == "203.0.113.9" and token.last_used_at is not None


def test_an_empty_list_lets_keys_in_from_anywhere(app, client):
    partner = make_partner()
    assert _status(client, partner, remote="198.51.100.20").status_code == 404


def test_without_trusted_proxies_x_forwarded_for_is_not_believed(app, client):
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    partner = make_partner()
    _allow(partner, OFFICE)
    answer = _status(client, partner, remote="127.0.0.1", forwarded="203.0.113.9")
    assert answer.status_code == 403
    assert "127.0.0.1" in answer.get_json()["error"]["message"]


@pytest.fixture
def behind_one_proxy(make_app):
    with opened(make_app(TRUSTED_PROXY_HOPS=1)) as app:
        yield app


def test_behind_one_trusted_proxy_its_x_forwarded_for_is_believed(behind_one_proxy):
    client = behind_one_proxy.test_client()
    partner = make_partner()
    _allow(partner, OFFICE)
    assert _status(client, partner, forwarded="203.0.113.9").status_code == 404
    # The client wrote an allowed address itself; the proxy appended the real one.
    forged = _status(client, partner, forwarded="203.0.113.9, 198.51.100.20")
    assert forged.status_code == 403
    assert "198.51.100.20" in forged.get_json()["error"]["message"]


# --- scope -----------------------------------------------------------------------------


def test_a_read_key_reads_but_may_not_write(app, client):
    partner = make_partner()
    _, read_key = issue_partner_key(partner.organization, "Reporting", scope=KeyScope.READ)
    db.session.commit()

    assert _status(client, partner, key=read_key).status_code == 404
    refused = client.post(
        f"/api/v1/partners/{partner.id}/orders", json={}, headers={"X-API-Key": read_key}
    )
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "insufficient_scope" and "write" in error["message"]

    # The same request with the write key gets past the scope to the validator.
    written = client.post(
        f"/api/v1/partners/{partner.id}/orders", json={}, headers={"X-API-Key": partner.api_key}
    )
    assert written.status_code not in (401, 403)


# --- the admin form -------------------------------------------------------------------


def test_the_admin_form_saves_refuses_and_audits_the_list(app, client, auth, make_user):
    partner = make_partner()
    admin = make_user("admin")
    auth.login(admin.email)
    page = f"/partners/{partner.id}"
    csrf = csrf_token_from(client.get(page).get_data(as_text=True))

    bad = client.post(
        f"{page}/ip-allowlist", data={"csrf_token": csrf, "ip_allowlist": "203.0.113.0/24\nnope"}
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="ip_allowlist"' in html and "nope" in html

    saved = client.post(
        f"{page}/ip-allowlist", data={"csrf_token": csrf, "ip_allowlist": "203.0.113.0/24, ::1"}
    )
    assert saved.status_code == 303
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.ip_allowlist == ["203.0.113.0/24", "::1/128"]
    assert "203.0.113.0/24\n::1/128" in client.get(page).get_data(as_text=True)
    [entry] = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "PARTNER_IP_ALLOWLIST_CHANGED")
    ).all()
    assert entry.changed_by_user_id == admin.id


def test_the_admin_form_issues_a_read_test_key_with_an_expiry(app, client, auth, make_user):
    partner = make_partner()
    auth.login(make_user("admin").email)
    page = f"/partners/{partner.id}"
    csrf = csrf_token_from(client.get(page).get_data(as_text=True))

    answer = client.post(
        f"{page}/keys",
        data={
            "csrf_token": csrf,
            "name": "Sandbox reader",
            "mode": "test",
            "scope": "read",
            "expires_at": "2099-12-31",
        },
    )
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    plain = answer.get_data(as_text=True).split('data-testid="new-api-key">', 1)[1].split("<")[0]
    assert plain.startswith("sbk_test_")
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Sandbox reader"))
    assert token.scope == KeyScope.READ and token.expires_at.year in (2099, 2100)

    past = client.post(
        f"{page}/keys",
        data={"csrf_token": csrf, "name": "Old", "expires_at": "2001-01-01"},
    )
    assert past.status_code == 422 and 'data-field="expires_at"' in past.get_data(as_text=True)
