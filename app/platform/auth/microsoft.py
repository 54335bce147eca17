"""Sign in with Microsoft: OpenID Connect through Entra ID, accounts and roles ours.

The authorization-code flow runs through MSAL (state, nonce and PKCE); the ID
token it brings back is then checked in full by :mod:`app.platform.auth.id_tokens`,
because MSAL no longer validates it.

Who a Microsoft account is here: the first sign-in matches it to a user by
e-mail address (case-insensitive; the ``email`` claim, else
``preferred_username``) and remembers the account's object id and tenant
(``oid`` + ``tid``, which Entra never changes or reuses). Every later sign-in finds
the user by that pair alone. So when either side's address changes later (a
colleague renamed in Microsoft 365, an address edited here, an address handed
to a new employee), the Microsoft account keeps reaching the same user and is
never matched to whoever holds the address now; a user already bound to one
Microsoft account is refused to any other. No user is ever created: an address
we do not know is refused, as is a deactivated account.

With a single tenant configured, that tenant's administrators vouch for its
addresses. With ``organizations`` (any work account) anyone can run a tenant and
put any address on an account there, so an address is only believed when
Entra says the domain's owner verified it (the ``xms_edov`` optional claim).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import requests
import sqlalchemy as sa
from flask_babel import gettext

from app.platform.audit.records import record_change
from app.platform.auth.id_tokens import IdTokenRejected, KeysUnavailable, verify_id_token
from app.platform.auth.services import normalise_email
from app.platform.extensions import db
from app.platform.microsoft import confidential_client
from app.platform.models import User

log = logging.getLogger(__name__)

# Seconds a started sign-in stays valid: Entra's authorization codes live about
# ten minutes, and a sign-in left longer is better started again.
FLOW_LIFETIME_SECONDS = 600
# (connect + read) allowance per call to Entra while a person waits on the page.
TIMEOUT_SECONDS = 10
SCOPES = ["email"]  # MSAL adds openid and profile itself (and refuses them here)
MULTI_TENANT = frozenset({"organizations", "common"})


class MicrosoftSignInError(Exception):
    """Sign-in refused or failed; ``message`` is for the person, ``reason`` for the log."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class MicrosoftSignIn:
    """The app registration staff sign in through (``MICROSOFT_SIGNIN_*``)."""

    client_id: str
    client_secret: str
    tenant: str
    authority_base: str

    @classmethod
    def from_config(cls, config: Mapping) -> MicrosoftSignIn | None:
        """The configured registration, or None when the feature is off."""
        if not config.get("MICROSOFT_SIGNIN_CLIENT_ID"):
            return None
        return cls(
            client_id=config["MICROSOFT_SIGNIN_CLIENT_ID"],
            client_secret=config["MICROSOFT_SIGNIN_CLIENT_SECRET"],
            tenant=config["MICROSOFT_SIGNIN_TENANT"],
            authority_base=config["MICROSOFT_SIGNIN_AUTHORITY_BASE"].rstrip("/"),
        )

    @property
    def authority(self) -> str:
        return f"{self.authority_base}/{self.tenant}"

    @property
    def multi_tenant(self) -> bool:
        return self.tenant.lower() in MULTI_TENANT

    def client(self):
        """The MSAL client (built once per process: that reads the discovery document)."""
        try:
            return confidential_client(
                self.authority,
                self.client_id,
                self.client_secret,
                timeout=TIMEOUT_SECONDS,
                sign_in_only=True,
            )
        except (ValueError, requests.RequestException) as exc:
            raise _unreachable(f"reading {self.authority}: {exc.__class__.__name__}") from exc


@dataclass(frozen=True)
class MicrosoftIdentity:
    """Who Microsoft says signed in, from a verified ID token."""

    tenant_id: str
    object_id: str
    addresses: tuple[str, ...]  # to match on, most trusted first
    second_factor: bool  # Entra's ``amr`` says the sign-in used MFA


def begin(settings: MicrosoftSignIn, redirect_uri: str, next_url: str | None) -> tuple[dict, str]:
    """Start a sign-in: (what to keep in the session, the URL to send the person to)."""
    flow = settings.client().initiate_auth_code_flow(
        SCOPES, redirect_uri=redirect_uri, prompt="select_account"
    )
    auth_uri = flow.pop("auth_uri")  # not needed to finish; keeps the session cookie small
    return {"flow": flow, "next": next_url, "started_at": int(time.time())}, auth_uri


def complete(settings: MicrosoftSignIn, pending: dict | None, answer: Mapping) -> MicrosoftIdentity:
    """Check Microsoft's answer against the pending sign-in and verify the ID token."""
    if not isinstance(pending, dict) or not isinstance(pending.get("flow"), dict):
        raise _expired("no sign-in was started in this browser session")
    if time.time() - pending.get("started_at", 0) > FLOW_LIFETIME_SECONDS:
        raise _expired("the sign-in was started too long ago")
    client = settings.client()
    try:
        result = client.acquire_token_by_auth_code_flow(pending["flow"], dict(answer))
    except ValueError as exc:  # MSAL: state missing or not ours (checked before any error)
        raise _expired(f"state check failed: {exc.__class__.__name__}") from exc
    except RuntimeError as exc:  # MSAL: the ID token's nonce is not the one we sent
        raise _unverified(f"nonce check failed: {exc.__class__.__name__}") from exc
    except requests.RequestException as exc:
        raise _unreachable(f"redeeming the code: {exc.__class__.__name__}") from exc
    if "error" in result:
        raise _refused_by_microsoft(str(result["error"]), str(result.get("error_description", "")))
    if not result.get("id_token"):
        raise _unverified("the token endpoint answered without an ID token")
    try:
        claims = verify_id_token(
            result["id_token"],
            discovery_url=f"{settings.authority}/v2.0/.well-known/openid-configuration",
            client_id=settings.client_id,
            timeout=TIMEOUT_SECONDS,
        )
    except KeysUnavailable as exc:
        raise _unreachable(str(exc)) from exc
    except IdTokenRejected as exc:
        raise _unverified(str(exc)) from exc
    return _identity(settings, claims)


def _identity(settings: MicrosoftSignIn, claims: dict) -> MicrosoftIdentity:
    if settings.multi_tenant:
        # Any tenant could put any address on an account; only a domain-verified one counts.
        verified = claims.get("xms_edov") in (True, "1", "true", "True")
        candidates = [claims.get("email")] if verified else []
    else:
        candidates = [claims.get("email"), claims.get("preferred_username")]
    addresses: list[str] = []
    for candidate in candidates:
        if isinstance(candidate, str) and "@" in candidate:
            address = normalise_email(candidate)
            if address not in addresses:
                addresses.append(address)
    try:  # Entra's ids are GUIDs; kept in one spelling so the pair always matches
        tenant_id, object_id = (str(uuid.UUID(str(claims[name]))) for name in ("tid", "oid"))
    except ValueError as exc:
        raise _unverified("tid or oid is not a GUID") from exc
    amr = claims.get("amr")
    return MicrosoftIdentity(
        tenant_id=tenant_id,
        object_id=object_id,
        addresses=tuple(addresses),
        second_factor=isinstance(amr, list) and "mfa" in amr,
    )


def account_for(identity: MicrosoftIdentity, *, ip_address: str | None) -> User:
    """The user this Microsoft account signs in as; raises :class:`MicrosoftSignInError`.

    Binds nothing: a first sign-in's binding waits for :func:`bind_account`,
    which the caller runs once the whole sign-in (a second factor included)
    has succeeded. Nor does it note a sign-in (``last_login_at``): that waits
    for the session to start, after the authenticator code where one is asked.
    """
    user = db.session.scalar(
        sa.select(User).where(
            User.microsoft_tenant_id == identity.tenant_id,
            User.microsoft_object_id == identity.object_id,
        )
    )
    if user is None:
        user = _user_by_address(identity)
        if user.microsoft_object_id is not None:
            raise MicrosoftSignInError(
                gettext(
                    "The Switchboard account for %(address)s signs in with a different "
                    "Microsoft account. Ask an admin if that has changed.",
                    address=user.email,
                ),
                status=403,
                reason=f"user {user.id} is bound to another Microsoft account",
            )
    if not user.is_active:
        raise MicrosoftSignInError(
            gettext("Your Switchboard account is deactivated. Ask an admin if you need access."),
            status=403,
            reason=f"user {user.id} is deactivated",
        )
    return user


def binding_for(user: User, identity: MicrosoftIdentity) -> dict | None:
    """What :func:`bind_account` needs later, if this sign-in is the account's first."""
    if user.microsoft_object_id is not None:
        return None
    return {"tenant_id": identity.tenant_id, "object_id": identity.object_id}


def bind_account(user: User, binding: dict, ip_address: str | None) -> None:
    """Bind the Microsoft account of a finished sign-in to ``user`` (audited).

    Called only after the sign-in passed every step: binding before the
    authenticator code would let someone holding only the Microsoft account tie
    it to a user whose second factor they never showed. No commit.
    """
    if user.microsoft_object_id is not None:
        return
    user.microsoft_tenant_id = binding["tenant_id"]
    user.microsoft_object_id = binding["object_id"]
    record_change(
        "users",
        user.id,
        "microsoft_account_bound",
        {"microsoft_tenant_id": binding["tenant_id"], "microsoft_object_id": binding["object_id"]},
        user_id=user.id,
        ip_address=ip_address,
    )


def unbind_microsoft_account(user: User) -> bool:
    """Forget ``user``'s Microsoft account (audited); False if none was bound.

    For an address handed to someone else or a move to another tenant: the next
    Microsoft sign-in for the user is matched by e-mail again.
    """
    if user.microsoft_object_id is None:
        return False
    record_change(
        "users",
        user.id,
        "microsoft_account_unbound",
        {
            "microsoft_tenant_id": user.microsoft_tenant_id,
            "microsoft_object_id": user.microsoft_object_id,
        },
    )
    user.microsoft_tenant_id = None
    user.microsoft_object_id = None
    return True


def _user_by_address(identity: MicrosoftIdentity) -> User:
    for address in identity.addresses:
        user = db.session.scalar(sa.select(User).where(User.email == address))
        if user is not None:
            return user
    if not identity.addresses:
        raise MicrosoftSignInError(
            gettext(
                "Microsoft did not give a verified e-mail address for your account, so we "
                "cannot tell which Switchboard account is yours. Sign in with your password."
            ),
            status=403,
            reason=f"no trusted address for {identity.object_id}@{identity.tenant_id}",
        )
    raise MicrosoftSignInError(
        gettext(
            "No Switchboard account uses %(address)s. Ask an admin to add you, then try again.",
            address=identity.addresses[0],
        ),
        status=403,
        reason=f"no user for {identity.object_id}@{identity.tenant_id}",
    )


def _expired(reason: str) -> MicrosoftSignInError:
    return MicrosoftSignInError(
        gettext(
            "This Microsoft sign-in has expired or was started in another window. Please try again."
        ),
        status=400,
        reason=reason,
    )


def _refused_by_microsoft(code: str, description: str) -> MicrosoftSignInError:
    # Microsoft's description is not shown: it comes back through the address bar,
    # where anyone can write text onto our page. The code is kept to its alphabet.
    code = "".join(ch for ch in code if ch.isalnum() or ch == "_")[:64]
    if code == "access_denied":
        message = gettext("Microsoft sign-in was cancelled or refused. You are not signed in.")
    else:
        message = gettext(
            "Microsoft could not sign you in (%(code)s). Try again or sign in with your password.",
            code=code,
        )
    return MicrosoftSignInError(
        message, status=400, reason=f"Microsoft answered {code}: {description[:300]}"
    )


def _unverified(reason: str) -> MicrosoftSignInError:
    return MicrosoftSignInError(
        gettext("Microsoft's answer could not be verified. You are not signed in."),
        status=400,
        reason=reason,
    )


def _unreachable(reason: str) -> MicrosoftSignInError:
    return MicrosoftSignInError(
        gettext("Microsoft could not be reached. Try again in a moment."),
        status=502,
        reason=reason,
    )
