"""One HTTP attempt at a delivery, and what its answer means for the next one."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
import urllib3

from app.deliveries.safety import GuardedAdapter

TIMEOUT_SECONDS = 10
EXCERPT_CHARS = 500
# Read no more of an answer than the excerpt needs: a partner's error page can be large.
READ_BYTES = 4096
MAX_DELAY_SECONDS = 3600

_local = threading.local()


@dataclass(frozen=True)
class Outcome:
    """What one attempt got back; ``status_code`` is None when no answer came."""

    status_code: int | None
    latency_ms: float
    response_excerpt: str | None = None
    error: str | None = None
    # Seconds the receiver asked us to wait (429/503 Retry-After), capped.
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410

    def summary(self) -> str:
        if self.error:
            return self.error
        return f"HTTP {self.status_code}"


def _session(allow_private: bool) -> requests.Session:
    # One keep-alive pool per worker thread: callbacks to one partner reuse it.
    name = "open_session" if allow_private else "guarded_session"
    session = getattr(_local, name, None)
    if session is None:
        session = requests.Session()
        if not allow_private:
            guarded = GuardedAdapter()
            session.mount("https://", guarded)
            session.mount("http://", guarded)
        setattr(_local, name, session)
    return session


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> Outcome:
    """POST ``body`` once: 10 s timeout, redirects not followed (a 3xx is a failure).

    Unless ``allow_private``, the connection is refused (:class:`UnsafeTarget`
    raised) when it reaches an internal address, whatever DNS said before.
    """
    started = time.monotonic()
    try:
        response = _session(allow_private).post(
            url,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout:
        return Outcome(None, _ms(started), error=f"timed out after {TIMEOUT_SECONDS}s")
    except requests.RequestException as exc:
        return Outcome(None, _ms(started), error=f"connection failed ({type(exc).__name__})")
    try:
        latency = _ms(started)
        excerpt = _excerpt(response)
    finally:
        response.close()
    status = response.status_code
    error = None
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        error = f"HTTP {status} redirect to {location[:200] or '(no location)'}; not followed"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    retry_after = None
    if status in (429, 503):
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    return Outcome(status, latency, excerpt, error, retry_after)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delay-seconds or an HTTP date), capped at an hour."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_DELAY_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return min(max((moment - now).total_seconds(), 0.0), MAX_DELAY_SECONDS)


def _excerpt(response: requests.Response) -> str | None:
    try:
        raw = response.raw.read(READ_BYTES, decode_content=True)
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        return None
    if not raw:
        return None
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    return text[:EXCERPT_CHARS]


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
