"""Who is making changes right now: the signed-in user and their address.

Audit entries name the person and the client address behind a change. The
services that make changes never see the request (STYLE habit 5), and most
have no reason to take an address parameter just to pass it on, so a
``before_request`` hook notes the request's actor in a context variable and
:func:`app.platform.audit.records.record_change` reads it when its caller gave none.
Jobs and commands run outside a request: there is no actor, and their entries
name nobody unless the caller passes a user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from flask import Flask, g, request
from flask_login import current_user


@dataclass(frozen=True)
class Actor:
    """The person behind the current changes; ``user_id`` is read when first needed."""

    ip_address: str | None
    # Read late: a sign-in signs the user in during the request, and loading
    # the user for requests that change nothing (webhooks, assets) costs a query.
    find_user_id: Callable[[], uuid.UUID | None] = lambda: None

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.find_user_id()


_current: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Attribute the changes made inside the block to ``actor``."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def _signed_in_user_id() -> uuid.UUID | None:
    return current_user.id if current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    """Note each request's actor before its view runs, and forget it afterwards."""

    @app.before_request
    def note_actor() -> None:
        # remote_addr is the client's own address once the proxy setting has
        # unwrapped X-Forwarded-For, never a header the client could forge.
        g.audit_actor_token = _current.set(Actor(request.remote_addr, _signed_in_user_id))

    @app.teardown_request
    def forget_actor(_exc: BaseException | None) -> None:
        token: Token | None = g.pop("audit_actor_token", None)
        if token is not None:
            _current.reset(token)
