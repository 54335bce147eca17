"""Sign in with Microsoft, against a fake Entra ID.

The fake issues RS256-signed ID tokens with a key made in the test; everything
the app relies on in them (signature, issuer, audience, lifetime, nonce) is
spoilt in turn and must be refused with nothing signed in.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from app.platform.auth import microsoft
from app.platform.auth.web import microsoft as microsoft_routes
from app.platform.config import Config
from app.platform.extensions import db
from app.platform.models import AuditLog, User
from tests.conftest import base_config, opened
from tests.support.helpers import second_factor_code
from tests.support.microsoft_support import (
    CALLBACK_PATH,
    at_microsoft,
    entra_fake,
    round_trip,
    to_microsoft,
)

# Entra answers by query string on purpose (app/platform/auth/web/microsoft.py); MSAL
# warns at every sign-in that form_post would be its choice.
pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post':UserWarning")

PUBLIC_BASE_URL = base_config()["PUBLIC_BASE_URL"]
BUTTON = b"Sign in with Microsoft"


@pytest.fixture
def entra(monkeypatch):
    yield from entra_fake(monkeypatch, PUBLIC_BASE_URL)


@pytest.fixture
def tenant():
    """What MICROSOFT_SIGNIN_TENANT is set to (None: the fake's tenant id)."""
    return None


@pytest.fixture
def app(make_app, entra, tenant):
    with opened(make_app(**entra.app_config(tenant))) as app:
        yield app


def signed_in(client) -> bool:
    return client.get("/inbox").status_code == 200


def page_text(response) -> str:
    return response.get_data(as_text=True)


# -- switched on and off ------------------------------------------------------


def test_login_page_offers_microsoft_when_configured(client):
    page = client.get("/login?next=/tasks")
    assert BUTTON in page.data
    assert 'href="/login/microsoft?next=/tasks"' in page_text(page)


def test_feature_off_hides_button_and_routes(make_app):
    with opened(make_app()) as plain:
        client = plain.test_client()
        assert BUTTON not in client.get("/login").data
        assert client.get("/login/microsoft").status_code == 404
        assert client.get(f"{CALLBACK_PATH}?code=x&state=y").status_code == 404


def test_half_a_configuration_is_refused_at_start(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROSOFT_SIGNIN_CLIENT_ID", "3f1c-app")
    monkeypatch.delenv("MICROSOFT_SIGNIN_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("MICROSOFT_SIGNIN_TENANT", raising=False)
    with pytest.raises(RuntimeError) as refused:
        Config.from_env(str(tmp_path))
    assert "MICROSOFT_SIGNIN_CLIENT_SECRET" in str(refused.value)
    assert "MICROSOFT_SIGNIN_TENANT" in str(refused.value)


def test_start_sends_the_browser_to_the_authority_with_state_nonce_and_pkce(client, entra):
    authorize = urlsplit(to_microsoft(client))
    assert authorize.path == f"/{entra.tenant_id}/oauth2/v2.0/authorize"
    query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
    assert query["client_id"] == entra.client_id
    assert query["redirect_uri"] == PUBLIC_BASE_URL + CALLBACK_PATH
    # Who the person is, nothing more: no refresh token (offline_access), no API.
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["state"] and query["nonce"] and query["code_challenge"]


# -- who gets in ---------------------------------------------------------------


def test_staff_member_signs_in_matched_by_email_whatever_the_case(client, entra, make_user):
    user = make_user("agent", email="anouk@chargecars.nl")
    account = entra.sign_in_as("Anouk@ChargeCars.NL")

    response = round_trip(client, entra)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inbox")
    assert user.name in page_text(client.get("/inbox"))
    db.session.refresh(user)
    assert (user.microsoft_tenant_id, user.microsoft_object_id) == (
        entra.tenant_id,
        account["oid"],
    )
    assert user.last_login_at is not None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.record_id == user.id))
    assert entry.action == "microsoft_account_bound"
    assert entry.changes == {
        "microsoft_tenant_id": entra.tenant_id,
        "microsoft_object_id": account["oid"],
    }


def test_preferred_username_is_used_when_there_is_no_email_claim(client, entra, make_user):
    make_user("agent", email="ruud@chargecars.nl")
    entra.sign_in_as(None, preferred_username="RUUD@chargecars.nl")
    assert round_trip(client, entra).status_code == 302
    assert signed_in(client)


def test_where_the_person_was_going_survives_the_round_trip(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    response = round_trip(client, entra, start="/login/microsoft?next=/tasks")
    assert response.headers["Location"].endswith("/tasks")


def test_next_pointing_off_site_is_dropped(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    response = round_trip(client, entra, start="/login/microsoft?next=https://evil.example/x")
    assert response.headers["Location"].endswith("/inbox")


def test_unknown_address_is_refused_and_no_user_is_made(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("stranger@chargecars.nl")

    response = round_trip(client, entra)

    assert response.status_code == 403
    assert "No Switchboard account uses stranger@chargecars.nl" in page_text(response)
    assert not signed_in(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_deactivated_account_is_refused(client, entra, make_user):
    make_user("agent", email="oud@chargecars.nl", is_active_account=False)
    entra.sign_in_as("oud@chargecars.nl")

    response = round_trip(client, entra)

    assert response.status_code == 403
    assert "deactivated" in page_text(response)
    assert not signed_in(client)


def test_bound_microsoft_account_keeps_its_user_when_addresses_change(
    app, client, entra, make_user
):
    anouk = make_user("agent", email="anouk@chargecars.nl")
    account = entra.sign_in_as("anouk@chargecars.nl")
    assert round_trip(client, entra).status_code == 302
    other_client = app.test_client()  # another day, another browser

    # Her Microsoft 365 address now reads like a colleague's: still Anouk.
    make_user("agent", email="anouk.devries@chargecars.nl")
    entra.sign_in_as("anouk.devries@chargecars.nl", oid=account["oid"])
    assert round_trip(other_client, entra).status_code == 302
    assert anouk.name in page_text(other_client.get("/inbox"))


def test_another_microsoft_account_with_a_bound_users_address_is_refused(
    app, client, entra, make_user
):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    assert round_trip(client, entra).status_code == 302

    # The address is handed to a new Microsoft account (new object id).
    newcomer = app.test_client()
    entra.sign_in_as("anouk@chargecars.nl")
    response = round_trip(newcomer, entra)

    assert response.status_code == 403
    assert "different Microsoft account" in page_text(response)
    assert not signed_in(newcomer)


def test_unbinding_lets_a_new_microsoft_account_take_over(app, client, entra, make_user):
    anouk = make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    assert round_trip(client, entra).status_code == 302

    result = app.test_cli_runner().invoke(args=["users", "unbind-microsoft", "Anouk@chargecars.nl"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"email": "anouk@chargecars.nl", "was_bound": True}

    # ChargeCars moved to a new tenant: her new account is matched by e-mail again.
    account = entra.sign_in_as("anouk@chargecars.nl")
    assert round_trip(app.test_client(), entra).status_code == 302
    db.session.refresh(anouk)
    assert anouk.microsoft_object_id == account["oid"]
    actions = db.session.scalars(
        sa.select(AuditLog.action)
        .where(AuditLog.record_id == anouk.id)
        .order_by(AuditLog.created_at)
    ).all()
    assert actions == [
        "microsoft_account_bound",
        "microsoft_account_unbound",
        "microsoft_account_bound",
    ]


@pytest.mark.parametrize(
    ("amr", "lands_on"), [(["pwd", "mfa"], "/inbox"), (["pwd"], "/login/verify")]
)
def test_mfa_at_microsoft_counts_as_the_second_factor(client, entra, make_user, amr, lands_on):
    """An admin with an authenticator app: Entra's own MFA spares the code; without it
    the sign-in waits for the code like a password sign-in does."""
    make_user("admin", email="beheer@chargecars.nl")
    entra.sign_in_as("beheer@chargecars.nl", amr=amr)

    response = round_trip(client, entra)

    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith(lands_on)
    assert signed_in(client) is (lands_on == "/inbox")


# The binding waits for the whole sign-in, second factor included.
def test_a_first_microsoft_sign_in_binds_the_account_only_after_the_code(
    client, auth, entra, make_user
):
    admin = make_user("admin", email="beheer@chargecars.nl")  # has an authenticator
    account = entra.sign_in_as("beheer@chargecars.nl", amr=["pwd"])

    response = round_trip(client, entra)

    assert response.headers["Location"].endswith("/login/verify")
    db.session.refresh(admin)
    assert admin.microsoft_object_id is None  # not bound while the code is outstanding
    assert admin.last_login_at is None  # nor signed in: the code is part of the sign-in
    assert not db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "microsoft_account_bound")
    )

    verified = auth.verify(second_factor_code(admin.email))
    assert verified.status_code == 302 and signed_in(client)
    db.session.expire_all()
    bound = db.session.get(User, admin.id)
    assert bound.microsoft_object_id == account["oid"]
    assert bound.last_login_at is not None


def test_a_microsoft_sign_in_abandoned_at_the_code_binds_nothing(client, auth, entra, make_user):
    admin = make_user("admin", email="beheer@chargecars.nl")
    entra.sign_in_as("beheer@chargecars.nl", amr=["pwd"])
    round_trip(client, entra)
    assert auth.verify("000000").status_code == 200  # a wrong code: asked again
    db.session.expire_all()
    assert db.session.get(User, admin.id).microsoft_object_id is None
    assert db.session.get(User, admin.id).last_login_at is None


# -- ID tokens that must not be believed -------------------------------------


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda fake: setattr(fake, "sign_with_unpublished_key", True), id="wrong-key"),
        pytest.param(
            lambda fake: fake.token_overrides.update(aud="another-app"), id="wrong-audience"
        ),
        pytest.param(
            lambda fake: fake.token_overrides.update(iss=fake.issuer(str(uuid.uuid4()))),
            id="wrong-issuer",
        ),
        pytest.param(
            lambda fake: fake.token_overrides.update(tid=str(uuid.uuid4())),
            id="other-tenant",
        ),
        pytest.param(
            lambda fake: fake.token_overrides.update(
                iat=int(time.time()) - 7200,
                nbf=int(time.time()) - 7200,
                exp=int(time.time()) - 3600,
            ),
            id="expired",
        ),
        pytest.param(lambda fake: fake.token_overrides.update(nonce="not-ours"), id="wrong-nonce"),
    ],
)
def test_id_token_that_does_not_check_out_is_refused(client, entra, make_user, spoil):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    spoil(entra)

    response = round_trip(client, entra)

    assert response.status_code == 400
    assert "could not be verified" in page_text(response)
    assert not signed_in(client)
    assert db.session.scalar(sa.select(User.microsoft_object_id)) is None


def test_rolled_over_signing_key_is_fetched_again(app, client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    assert round_trip(client, entra).status_code == 302  # keys now cached

    entra.rotate_key()
    assert round_trip(app.test_client(), entra).status_code == 302
    assert len(entra.requests_to("/discovery/v2.0/keys")) == 2


# -- the round trip going wrong ---------------------------------------------------


def test_error_from_microsoft_is_shown_without_its_description(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.deny_with = ("access_denied", "AADSTS65004: Call +31 20 000 0000 to unlock")

    response = round_trip(client, entra)

    assert response.status_code == 400
    text = page_text(response)
    assert "Microsoft sign-in was cancelled or refused" in text
    assert "AADSTS65004" not in text
    assert not signed_in(client)


def test_state_that_is_not_ours_is_refused_and_the_flow_is_spent(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    callback = urlsplit(at_microsoft(entra, to_microsoft(client)))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}

    forged = client.get(f"{CALLBACK_PATH}?{urlencode({**query, 'state': 'attacker'})}")
    assert forged.status_code == 400
    assert "expired or was started in another window" in page_text(forged)
    # The genuine answer arriving after the forged one finds nothing to finish.
    assert client.get(f"{CALLBACK_PATH}?{callback.query}").status_code == 400
    assert not signed_in(client)


def test_callback_without_a_started_sign_in_is_refused(client, entra):
    response = client.get(f"{CALLBACK_PATH}?code=stolen-code&state=guessed")
    assert response.status_code == 400
    assert "expired" in page_text(response)
    assert not signed_in(client)


def test_sign_in_left_too_long_has_expired(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")
    callback = at_microsoft(entra, to_microsoft(client))
    with client.session_transaction() as session:
        pending = session[microsoft_routes.PENDING_KEY]
        pending["started_at"] -= microsoft.FLOW_LIFETIME_SECONDS + 1
        session[microsoft_routes.PENDING_KEY] = pending

    response = client.get(callback)

    assert response.status_code == 400
    assert "expired" in page_text(response)
    assert not signed_in(client)


def test_refusal_page_keeps_the_password_form_working(client, entra, make_user):
    make_user("agent", email="anouk@chargecars.nl")
    entra.deny_with = ("access_denied", "declined")
    response = round_trip(client, entra, start="/login/microsoft?next=/tasks")
    assert 'action="/login?next=/tasks"' in page_text(response)


def test_unreachable_authority_is_a_clear_502(make_app):
    closed_port = {
        "MICROSOFT_SIGNIN_CLIENT_ID": "app",
        "MICROSOFT_SIGNIN_CLIENT_SECRET": "secret",
        "MICROSOFT_SIGNIN_TENANT": "organizations",
        "MICROSOFT_SIGNIN_AUTHORITY_BASE": "https://127.0.0.1:9",
    }
    with opened(make_app(**closed_port)) as down:
        response = down.test_client().get("/login/microsoft")
    assert response.status_code == 502
    assert "Microsoft could not be reached" in page_text(response)


# -- any work account ("organizations") -----------------------------------------


@pytest.mark.parametrize("tenant", ["organizations"])
def test_multi_tenant_believes_only_domain_verified_addresses(client, entra, make_user, tenant):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl")

    refused = round_trip(client, entra)
    assert refused.status_code == 403
    assert "did not give a verified e-mail address" in page_text(refused)

    entra.sign_in_as("anouk@chargecars.nl", xms_edov=True)
    assert round_trip(client, entra).status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize("tenant", ["organizations"])
def test_multi_tenant_issuer_must_name_the_tokens_own_tenant(client, entra, make_user, tenant):
    make_user("agent", email="anouk@chargecars.nl")
    entra.sign_in_as("anouk@chargecars.nl", xms_edov=True)
    entra.token_overrides["iss"] = entra.issuer(str(uuid.uuid4()))

    response = round_trip(client, entra)

    assert response.status_code == 400
    assert not signed_in(client)
