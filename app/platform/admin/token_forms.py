"""The admin's form for a new personal API token, read and checked.

:func:`issue_token_from_form` issues the token the form asks for, or raises
:class:`TokenFormRefused` naming each wrong field with the message to show.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _

from app.platform.admin.services import find_user
from app.platform.auth.api_tokens import expiry_from_date, issue_personal_token
from app.platform.models import User
from app.platform.models.enums import KeyScope


class TokenFormRefused(ValueError):
    """``fields`` maps each wrong field to the message shown beside it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def issue_token_from_form(form: dict, issued_by: User | None) -> tuple[User, str]:
    """A token for the form's ``user_id`` (``name``, ``scope``, ``expires_at``), no commit;
    returns its user and the plain token. The name is checked once the rest is right."""
    owner = _user(form.get("user_id"))
    errors: dict[str, str] = {}
    if owner is None:
        errors["user_id"] = _("Choose the user the token acts as.")
    try:
        scope = KeyScope(form.get("scope") or KeyScope.WRITE.value)
    except ValueError:
        errors["scope"] = _("Choose one of the options.")
    try:
        expires_at = expiry_from_date(form.get("expires_at"))
    except ValueError as exc:
        errors["expires_at"] = str(exc)
    if errors:
        raise TokenFormRefused(errors)
    try:
        _token, plain = issue_personal_token(
            owner, form.get("name", ""), issued_by, scope=scope, expires_at=expires_at
        )
    except ValueError as exc:
        field, _sep, message = str(exc).partition(": ")
        raise TokenFormRefused({field if message else "name": message or str(exc)}) from None
    return owner, plain


def _user(value: str | None) -> User | None:
    try:
        return find_user(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return None
