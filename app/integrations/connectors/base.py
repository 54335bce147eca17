"""The one interface every provider connector speaks, and the HTTP plumbing they share.

A connector knows one provider's wire format: where an object type lives, how
a page of records is asked for, how the answer's id and errors are read. Sync
jobs only ever see :class:`Connector`; what a provider calls a customer is the
connector's business. Every call has a timeout; a 429 is waited out when the
provider says how long (``Retry-After``, capped), and errors come back as one
:class:`ConnectorError` saying whether trying again may help.

The base URL may be typed by an admin (a Yardi or ROVIDA tenant's host), so
every call goes through the outbound URL check (:mod:`app.platform.security.outbound`):
the name is resolved, each address vetted, and only a vetted one connected to.
What the admin then reads ("test connection", a sync's error) must not work as
a port scanner: every way of not getting an answer (refused, unreachable, no
such name, a timeout, a TLS or protocol failure) reads the same, and a private
address reads "not allowed" without a connection being tried.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from flask_babel import lazy_gettext as _l

from app.platform.security.outbound import UnsafeTarget, guarded_session

log = logging.getLogger(__name__)

# (connect, read) seconds: well inside the bulk queue's job timeout.
TIMEOUT = (5, 30)
# A provider asking us to wait longer than this gets a retryable error instead:
# the sync job's own backoff (or the next run) picks the record up again.
MAX_RETRY_AFTER_SECONDS = 30.0
RATE_LIMIT_RETRIES = 2
ERROR_EXCERPT_CHARS = 300
# The one answer for every call that got no HTTP answer: which way it failed
# would tell an open port from a closed one (the exception class is logged).
NO_ANSWER = "no answer: the host could not be reached, refused the connection or timed out"
NOT_ALLOWED = "refused: this address is not allowed (a private or reserved address)"
# The same two as an admin's page says them (the log and audit keep the English).
READABLE = {
    NO_ANSWER: _l("no answer: the host could not be reached, refused the connection or timed out"),
    NOT_ALLOWED: _l("refused: this address is not allowed (a private or reserved address)"),
}


def readable(message: str) -> str:
    """A connector's outcome with its fixed sentences in the reader's language."""
    for english, translated in READABLE.items():
        message = message.replace(english, str(translated))
    return message


class ConnectorError(Exception):
    """A call the provider refused or never answered.

    ``retryable`` says whether the same call may succeed later (timeouts, 429,
    5xx); ``status`` is the HTTP status when an answer came.
    """

    def __init__(
        self,
        message: str,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    @property
    def auth_failed(self) -> bool:
        """The credentials were refused: every further call would fail the same way."""
        return self.status in (401, 403)


@dataclass(frozen=True)
class ListScope:
    """Which remote records a list asks for: the integration's sync settings.

    Each connector says it in its provider's documented way (HubSpot's search
    API, QuickBooks' query language, Stripe's ``created[gte]``); the default
    scope asks for what a plain list answers.
    """

    include_deleted: bool = False
    modified_since: datetime | None = None
    modified_until: datetime | None = None
    # The provider's own filters, keyed as its registry entry declares them.
    filters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_range(self) -> bool:
        return self.modified_since is not None or self.modified_until is not None

    def within(self, moment: datetime | None) -> bool:
        """Whether ``moment`` lies in the range (an unknown moment does)."""
        if moment is None:
            return True
        if self.modified_since is not None and moment < self.modified_since:
            return False
        return self.modified_until is None or moment <= self.modified_until


class Connector(ABC):
    """One provider's REST API, seen as objects that can be listed, created and updated.

    ``token`` is called for every request so an OAuth token refreshed halfway
    through a long sync is picked up.
    """

    #: The object types (registry names) this connector can sync.
    objects: tuple[str, ...] = ()
    #: Object types whose records come in as orders (a property system's work orders);
    #: every other non-contact object only goes out.
    pulled_orders: tuple[str, ...] = ()
    #: Largest page the provider serves.
    max_page_size: int = 100

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str],
        *,
        config: dict | None = None,
        page_size: int = 100,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.config = dict(config or {})
        self.page_size = max(1, min(int(page_size or 100), self.max_page_size))
        # The base URL may be a customer's own host (Yardi, ROVIDA): never an internal one.
        self._session = session or guarded_session()

    # -- the interface ---------------------------------------------------------

    @abstractmethod
    def test_connection(self) -> tuple[bool, str]:
        """(ok, message): one cheap authenticated read."""

    @abstractmethod
    def list_remote(
        self,
        object_type: str,
        cursor: str | None = None,
        fields: Sequence[str] = (),
        scope: ListScope | None = None,
    ) -> tuple[list[dict], str | None]:
        """One page of ``object_type`` records, and the cursor of the next page (or None).

        ``fields`` are the remote dot paths the caller will read (its mappings'):
        a provider that answers only the fields asked for (HubSpot) is asked for
        these; one that always answers whole records ignores them. ``scope``
        narrows the list as the integration's sync settings say.
        """

    @abstractmethod
    def create_remote(
        self, object_type: str, payload: dict, idempotency_key: str | None = None
    ) -> str:
        """Create one record; returns the provider's id for it."""

    @abstractmethod
    def update_remote(self, object_type: str, remote_id: str, payload: dict) -> None:
        """Change the record ``remote_id`` to hold ``payload``'s fields."""

    @staticmethod
    def remote_id_of(record: dict) -> str | None:
        """The provider's id in a listed record."""
        value = record.get("id")
        return None if value is None else str(value)

    def is_archived(self, record: dict) -> bool:
        """Whether a listed record is deleted or archived at the provider."""
        return record.get("archived") is True or record.get("deleted") is True

    # -- shared plumbing ---------------------------------------------------------

    def check_object(self, object_type: str) -> None:
        if object_type not in self.objects:
            raise ConnectorError(
                f"{object_type!r} is not an object this connector syncs "
                f"(one of {', '.join(self.objects)})"
            )

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}"}

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """Send one call; the answer's JSON (or None when empty), else ConnectorError."""
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        headers = {"Accept": "application/json", **self.auth_headers()}
        headers.update(kwargs.pop("headers", None) or {})
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                response = self._session.request(
                    method, url, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
                )
            except UnsafeTarget as exc:  # the outbound URL check: no retry can help
                log.info("%s %s refused: %s", method, _path(url), exc)
                reason = NOT_ALLOWED if exc.private else str(exc)
                raise ConnectorError(f"{method} {_path(url)} {reason}", retryable=False) from exc
            except requests.RequestException as exc:
                log.info("%s %s got no answer: %r", method, _path(url), exc)
                raise ConnectorError(f"{method} {_path(url)}: {NO_ANSWER}", retryable=True) from exc
            if response.status_code == 429:
                wait = _retry_after(response)
                if attempt < RATE_LIMIT_RETRIES and wait is not None:
                    log.info("rate limited on %s %s; waiting %.1fs", method, _path(url), wait)
                    time.sleep(wait)
                    continue
                raise ConnectorError(
                    f"rate limited: {self.error_message(response)}",
                    retryable=True,
                    status=429,
                    retry_after=wait,
                )
            break
        if response.status_code >= 400:
            raise ConnectorError(
                self.error_message(response),
                retryable=response.status_code >= 500,
                status=response.status_code,
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(
                f"{method} {_path(url)} answered HTTP {response.status_code} without JSON",
                retryable=False,
                status=response.status_code,
            ) from exc

    def error_message(self, response: requests.Response) -> str:
        """The provider's own words for a refusal; connectors read their error shape."""
        try:
            body = response.json()
        except ValueError:
            body = None
        message = _first_text(body) if body is not None else response.text
        message = (message or "").strip()[:ERROR_EXCERPT_CHARS]
        return f"HTTP {response.status_code}" + (f": {message}" if message else "")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = max(0.0, float(value))
    except ValueError:
        return None
    return seconds if seconds <= MAX_RETRY_AFTER_SECONDS else None


def _first_text(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "detail", "Message"):
            if isinstance(body.get(key), str):
                return body[key]
        for value in body.values():
            found = _first_text(value)
            if found:
                return found
    if isinstance(body, list):
        for value in body:
            found = _first_text(value)
            if found:
                return found
    return None


def _path(url: str) -> str:
    # Logged and shown without the query: it may carry a cursor or an api key.
    return url.split("?", 1)[0]
