"""A signed-in user's own settings: password, second factor, language and density.

Each change is written to the audit log (never a secret's value). Ending the
other sessions after a change is the route's part (:mod:`app.platform.auth.signin`),
since it renews this browser's cookies.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from app.platform.audit.records import record_change
from app.platform.auth import two_factor
from app.platform.auth.passwords import hash_password, verify_password
from app.platform.auth.services import record_failure
from app.platform.database import utcnow
from app.platform.i18n import LANGUAGES
from app.platform.models import User


class AccountChangeRefused(ValueError):
    """The change was not made; ``fields`` maps each form field to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def change_password(user: User, current: str, new: str, *, client_ip: str) -> None:
    """Set a new password once the current one is right (no commit).

    A wrong current password counts towards the sign-in lockout, so a session
    left open cannot be used to guess it.
    """
    now = utcnow()
    if user.is_locked(now):
        raise AccountChangeRefused(
            {"current_password": gettext("Too many wrong passwords. Try again later.")}
        )
    if not verify_password(user.password_hash, current):
        record_failure(user, client_ip, now)
        raise AccountChangeRefused({"current_password": gettext("That is not your password.")})
    if new == current:
        raise AccountChangeRefused(
            {"new_password": gettext("Choose a password different from the current one.")}
        )
    try:
        user.password_hash = hash_password(new)
    except ValueError as exc:
        raise AccountChangeRefused({"new_password": str(exc)}) from exc
    _record_own_change(user, "password_changed", {"password": "changed"}, client_ip)


def turn_on_two_factor(
    user: User, code: str, *, client_ip: str, now: datetime | None = None
) -> list[str]:
    """Confirm the setup under way with ``code``; returns the recovery codes."""
    try:
        codes = two_factor.confirm_setup(user, code, now)
    except two_factor.TwoFactorError as exc:
        raise AccountChangeRefused({"code": str(exc)}) from exc
    _record_own_change(user, "two_factor_enabled", {"two_factor": "on"}, client_ip)
    return codes


def turn_off_two_factor(user: User, code: str, *, client_ip: str) -> None:
    """Remove the authenticator once ``code`` (or a recovery code) proves it is theirs."""
    prove_second_factor(user, code, client_ip)
    two_factor.disable_two_factor(user)
    _record_own_change(user, "two_factor_disabled", {"two_factor": "off"}, client_ip)


def new_recovery_codes(user: User, code: str, *, client_ip: str) -> list[str]:
    """Replace the recovery codes once ``code`` proves the authenticator is theirs."""
    prove_second_factor(user, code, client_ip)
    codes = two_factor.regenerate_recovery_codes(user)
    _record_own_change(
        user, "recovery_codes_regenerated", {"recovery_codes": "replaced"}, client_ip
    )
    return codes


def prove_second_factor(user: User, code: str, client_ip: str) -> None:
    """Check a current authenticator or recovery code; a wrong one counts as a failure."""
    now = utcnow()
    if user.is_locked(now):
        raise AccountChangeRefused({"code": gettext("Too many wrong codes. Try again later.")})
    if not two_factor.verify_second_factor(user, code, now):
        record_failure(user, client_ip, now)
        raise AccountChangeRefused(
            {"code": gettext("That code is not right, or it was just used.")}
        )


def choose_language(user: User, language: str | None, *, client_ip: str) -> bool:
    """Set the interface language ("nl", "en", or None to follow the browser); no commit.

    Returns whether anything changed (choosing the same again records nothing).
    """
    language = (language or "").strip() or None
    if language is not None and language not in LANGUAGES:
        raise AccountChangeRefused({"language": gettext("Choose one of the languages listed.")})
    if language == user.language:
        return False
    changes = {"language": {"from": user.language, "to": language}}
    user.language = language
    _record_own_change(user, "language_changed", changes, client_ip)
    return True


# Compact first: the default, which fits the most on an agent's screen.
DENSITIES = ("compact", "comfortable")


def choose_density(user: User, density: str | None, *, client_ip: str) -> bool:
    """Set the layout density ("compact" or "comfortable"); no commit.

    None or "" (a form from before the choice existed) keeps the current one.
    Returns whether anything changed.
    """
    density = (density or "").strip()
    if not density:
        return False
    if density not in DENSITIES:
        raise AccountChangeRefused({"density": gettext("Choose compact or comfortable.")})
    if density == user.density:
        return False
    changes = {"density": {"from": user.density, "to": density}}
    user.density = density
    _record_own_change(user, "density_changed", changes, client_ip)
    return True


def _record_own_change(user: User, action: str, changes: dict, client_ip: str) -> None:
    """A user changed their own settings: they are the actor, never a secret's value stored."""
    record_change("users", user.id, action, changes, user_id=user.id, ip_address=client_ip)
