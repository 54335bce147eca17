"""One HTTP attempt at a delivery, and what its answer means for the next one."""

from __future__ import annotations

import functools
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
import urllib3

from app.platform.security.outbound import GuardedAdapter, GuardedPoolManager

TIMEOUT_SECONDS = 10
EXCERPT_CHARS = 500
# Read no more of an answer than the excerpt needs: a partner's error page can be large.
READ_BYTES = 4096
MAX_DELAY_SECONDS = 3600

# Keep-alive connections kept per target host for the whole process; more
# threads than this to one host open extra connections and drop them after.
CONNECTIONS_PER_HOST = 64

_local = threading.local()
_pools: dict[bool, urllib3.PoolManager] = {}
_pools_lock = threading.Lock()
_origin_pools: dict[tuple[str, bool], tuple[urllib3.HTTPConnectionPool, str]] = {}
MAX_REMEMBERED_URLS = 1000


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


def _pool(allow_private: bool) -> urllib3.PoolManager:
    # One pool manager per process, shared by every sending thread (urllib3's
    # pools are thread-safe): a connection pool per partner host, kept alive.
    with _pools_lock:
        pool = _pools.get(allow_private)
        if pool is None:
            manager = urllib3.PoolManager if allow_private else GuardedPoolManager
            pool = manager(num_pools=100, maxsize=CONNECTIONS_PER_HOST, block=False)
            _pools[allow_private] = pool
        return pool


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> Outcome:
    """POST ``body`` once: 10 s timeout, redirects not followed (a 3xx is a failure).

    Unless ``allow_private``, the connection is refused (:class:`UnsafeTarget`
    raised) when it reaches an internal address, whatever DNS said before.

    Straight through urllib3: ``requests`` cost more than twice its CPU per
    callback, which at hundreds a second is most of a core. An egress proxy
    in the environment (``HTTPS_PROXY``...) is only honoured by ``requests``,
    so with one set the callback goes that way.
    """
    if _proxied(url):
        return _post_with_requests(url, body, headers, allow_private=allow_private)
    started = time.monotonic()
    try:
        pool, path = _origin_pool(url, allow_private)
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            retries=False,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
    except urllib3.exceptions.NewConnectionError:  # refused, unreachable (a TimeoutError too)
        return Outcome(None, _ms(started), error="connection failed (ConnectionError)")
    except urllib3.exceptions.TimeoutError:
        return Outcome(None, _ms(started), error=f"timed out after {TIMEOUT_SECONDS}s")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Outcome(None, _ms(started), error=f"connection failed ({type(exc).__name__})")
    try:
        latency = _ms(started)
        excerpt = _read_excerpt(response, response.headers)
    finally:
        response.release_conn()
    return _outcome(response.status, response.headers, latency, excerpt)


@functools.cache
def _environment_proxies() -> dict[str, str]:
    # Read once per process: getproxies() walks the whole environment, which at
    # hundreds of callbacks a second was several per cent of a worker's CPU, and
    # a worker's environment does not change while it runs.
    return urllib.request.getproxies()


def _origin_pool(url: str, allow_private: bool) -> tuple[urllib3.HTTPConnectionPool, str]:
    """The kept-alive connection pool of the URL's host, and the path to ask it for.

    Remembered per URL: a partner's URL rarely changes, and finding the pool
    through the manager (parsing the URL, building its pool key) cost about a
    tenth of a worker's CPU per callback. A pool the manager has since dropped
    (more than its 100 hosts) is closed, so it is looked up afresh.
    """
    key = (url, allow_private)
    known = _origin_pools.get(key)
    if known is None or known[0].pool is None:
        if len(_origin_pools) >= MAX_REMEMBERED_URLS:
            _origin_pools.clear()
        parsed = urllib3.util.parse_url(url)
        pool = _pool(allow_private).connection_from_host(
            parsed.host, port=parsed.port, scheme=parsed.scheme
        )
        known = _origin_pools[key] = (pool, parsed.request_uri)
    return known


def _proxied(url: str) -> bool:
    proxies = _environment_proxies()
    if not proxies:
        return False
    host = urllib3.util.parse_url(url).host or ""
    return not urllib.request.proxy_bypass(host)


def _post_with_requests(
    url: str, body: bytes, headers: dict[str, str], *, allow_private: bool
) -> Outcome:
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
    return _outcome(response.status_code, response.headers, latency, excerpt)


def _outcome(status: int, headers, latency: float, excerpt: str | None) -> Outcome:
    error = None
    if 300 <= status < 400:
        location = headers.get("Location", "")
        error = f"HTTP {status} redirect to {location[:200] or '(no location)'}; not followed"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    retry_after = None
    if status in (429, 503):
        retry_after = retry_after_seconds(headers.get("Retry-After"))
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
    return _read_excerpt(response.raw, response.headers, response.encoding)


def _read_excerpt(raw_response, headers, encoding: str | None = None) -> str | None:
    try:
        raw = raw_response.read(READ_BYTES, decode_content=True)
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        return None
    if not raw:
        return None
    if encoding is None:
        encoding = requests.utils.get_encoding_from_headers(headers)
    return raw.decode(encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
