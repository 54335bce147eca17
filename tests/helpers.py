"""Helpers shared by tests: signing in through the real forms."""

from __future__ import annotations

import re

from app.conversations import Sender, record_inbound
from app.models.enums import ChannelType

PASSWORD = "correct-horse-battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_META.search(html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "page carries no CSRF token"
    return match.group(1)


class AuthActions:
    """Sign users in and out through the real login form, CSRF included."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, follow_redirects: bool = False):
        page = self._client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        return self._client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
        )

    def csrf_token(self, path: str = "/inbox") -> str:
        return csrf_token_from(self._client.get(path).get_data(as_text=True))

    def logout(self):
        token = self.csrf_token()
        return self._client.post("/logout", data={"csrf_token": token})


def receive(channel, contact, inbound):
    """Record ``inbound`` from ``contact`` as its channel's processor would."""
    if channel.channel_type == ChannelType.EMAIL_OUTLOOK:
        sender = Sender("email", contact.email, name=contact.display_name)
    else:
        sender = Sender("phone", contact.phone)
    return record_inbound(channel, sender, inbound)
