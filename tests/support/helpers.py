"""Helpers shared by tests: signing in through the real forms, replying, racing workers.

The functions named as fixture bodies take fixture names as parameters; a test
module binds one with ``agent = pytest.fixture(signed_in_agent, name="agent")``.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime, timedelta, timezone

import pyotp
import sqlalchemy as sa

from app.conversations.core import InboundMessage, Sender, record_inbound
from app.conversations.inbox.services import list_threads
from app.platform.auth import two_factor
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, TotpCredential, User
from app.platform.models.enums import ChannelType, MessageType
from app.platform.transactions import commit

PASSWORD = "correct-horse-battery"
HX = {"HX-Request": "true"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_META.search(html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "page carries no CSRF token"
    return match.group(1)


def enroll_two_factor(user: User) -> list[str]:
    """Turn on ``user``'s two-factor sign-in through the real setup; the recovery codes.

    The setup is confirmed with the code of the step *before* now, so the next
    two sign-ins (this step and the next) each have a fresh code to use.
    """
    two_factor.start_setup(user)
    credential = two_factor.pending_setup(user)
    now = datetime.now(timezone.utc)
    totp = pyotp.TOTP(credential.secret)
    codes = two_factor.confirm_setup(user, totp.generate_otp(totp.timecode(now) - 1), now)
    db.session.commit()
    return codes


def has_second_factor(email: str) -> bool:
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    return user is not None and two_factor.has_two_factor(user)


def second_factor_code(email: str) -> str:
    """A code the server accepts now for ``email``'s authenticator.

    Codes are good once: the next unused step of the current window if there is
    one, else a recovery code (made afresh through the real service).
    """
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    credential = db.session.scalar(
        sa.select(TotpCredential).where(TotpCredential.user_id == user.id)
    )
    totp = pyotp.TOTP(credential.secret)
    current = totp.timecode(datetime.now(timezone.utc))
    step = max(current, (credential.last_used_step or 0) + 1)
    if step <= current + two_factor.CLOCK_DRIFT_STEPS:
        return totp.generate_otp(step)
    codes = two_factor.regenerate_recovery_codes(user)
    db.session.commit()
    return codes[0]


class AuthActions:
    """Sign users in and out through the real login form, CSRF included.

    A user with two-factor sign-in gets the second step done too (a code from
    :func:`second_factor_code`) unless ``second_factor=False``.
    """

    def __init__(self, client):
        self._client = client

    def login(
        self,
        email: str,
        password: str = PASSWORD,
        follow_redirects: bool = False,
        *,
        second_factor: bool = True,
        remember: bool = False,
    ):
        page = self._client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        response = self._client.post("/login", data=data)
        if second_factor and response.headers.get("Location", "").endswith("/login/verify"):
            response = self.verify(second_factor_code(email))
        if follow_redirects and response.status_code in (301, 302, 303):
            return self._client.get(response.headers["Location"], follow_redirects=True)
        return response

    def verify(self, code: str):
        """Answer the second step of a sign-in with ``code``."""
        page = self._client.get("/login/verify")
        token = csrf_token_from(page.get_data(as_text=True))
        return self._client.post("/login/verify", data={"code": code, "csrf_token": token})

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


def customer_writes(channel, contact, external_id: str, content: str):
    """``contact``'s message of a second ago, recorded as ``channel``'s processor
    records it and committed; the stored message."""
    inbound = InboundMessage(
        external_message_id=external_id,
        content=content,
        received_at=utcnow() - timedelta(seconds=1),
    )
    message = receive(channel, contact, inbound)
    commit()
    return message


def serving(fake):
    """Yield ``fake`` (a fake provider server) started, and stop it after: the body
    of its fixture, as in ``yield from serving(FakeTeams())``."""
    fake.start()
    yield fake
    fake.stop()


def signed_in_agent(auth, make_user):
    """An agent, signed in on the test client (the body of an ``agent`` fixture)."""
    user = make_user("agent", email="agent@switchboard.test")
    auth.login("agent@switchboard.test")
    return user


def signed_in_admin(auth, make_user):
    """An admin, signed in on the test client (the body of an ``admin`` fixture)."""
    user = make_user("admin")
    auth.login(user.email)
    return user


def post_reply(client, auth, thread, files=(), **form):
    """Send ``thread``'s reply box as the composer does: htmx, multipart, ``files`` as
    (name, bytes) pairs."""
    data = {"csrf_token": auth.csrf_token(f"/threads/{thread.id}"), **form}
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        f"/threads/{thread.id}/reply", data=data, headers=HX, content_type="multipart/form-data"
    )


def outgoing_messages() -> list[CommunicationMessage]:
    """The outgoing messages as the database has them now (held, sent or failed), oldest
    first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage)
            .where(CommunicationMessage.message_type == MessageType.OUTGOING)
            .order_by(CommunicationMessage.created_at)
        )
    )


def reader_language(app):
    """Fixture body: yields ``set_language(language)``, which sets the reader's language
    directly in place of the app's locale selector (restored afterwards)."""
    babel = app.extensions["babel"]
    original = babel.locale_selector

    def set_language(language: str) -> None:
        babel.locale_selector = lambda: language

    yield set_language
    babel.locale_selector = original


def inbox_page_by_page(viewer, limit: int) -> list:
    """The ids of ``viewer``'s inbox, in order, walked ``limit`` at a time by its cursor."""
    seen, cursor = [], None
    while True:
        page = list_threads(viewer, cursor=cursor, limit=limit)
        seen += [thread.id for thread in page.threads]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


def race(app, work, count: int = 2) -> list:
    """Run ``work(index)`` in ``count`` threads released together, each in its own app
    context and committed; what each returned, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = work(index)
                commit()
            except Exception as exc:  # reported to the test, which fails on it
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def raised(results: list) -> list[Exception]:
    """The exceptions among ``race``'s results."""
    return [result for result in results if isinstance(result, Exception)]
