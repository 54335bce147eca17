"""Calling Microsoft Graph as the ChargeCars app (client credentials).

One MSAL client per process and app registration (:mod:`app.platform.microsoft`):
MSAL keeps the access token in that object's in-memory cache and hands it out
until shortly before it expires, so a busy worker asks Entra ID for a token about
once an hour, not once per call.

Every call goes to ``GRAPH_API_BASE`` with a timeout. Failures become
:class:`GraphError` and are noted on the "graph" provider status in a transaction
of their own: the caller's transaction is usually rolled back when a Graph call
fails (the job fails), and the failure must outlive it. For the same reason the
caller should do its Graph calls before its own writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import msal
import requests
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from app.platform.database import utcnow
from app.platform.microsoft import confidential_client
from app.platform.transactions import commit
from app.platform.transports.health import record_failure, record_success

log = logging.getLogger(__name__)

PROVIDER = "graph"
SCOPES = ["https://graph.microsoft.com/.default"]
# (connect, read) seconds. Graph answers mail calls in well under a second; the
# read allowance covers large message bodies and a slow day.
TIMEOUT = (5, 30)
# Throttled (429) or briefly unavailable (503) calls are retried once in place
# when Graph asks for at most this many seconds; longer waits go back to the job.
INLINE_RETRY_LIMIT = 5.0
RETRY_STATUSES = {429, 503}


class GraphError(Exception):
    """A Graph call that failed. ``status`` is None when no answer came back."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Worth trying again later: no answer, throttled, or a server-side failure."""
        return self.status is None or self.status in (408, 429) or self.status >= 500

    @property
    def auth_failure(self) -> bool:
        """Our credentials or permissions are wrong; retrying will not help."""
        return self.status in (401, 403)


def _token_app(config: Mapping) -> msal.ConfidentialClientApplication:
    return confidential_client(
        config["GRAPH_AUTHORITY"],
        config["GRAPH_CLIENT_ID"],
        config["GRAPH_CLIENT_SECRET"],
        timeout=TIMEOUT[1],
    )


class GraphClient:
    """Graph calls for one mailbox (default: ``GRAPH_MAILBOX``), authenticated as the app.

    The app's application permission reaches every mailbox of the tenant the
    admin allowed, shared mailboxes included, so one app registration serves all.
    """

    def __init__(self, config: Mapping, mailbox: str | None = None) -> None:
        self.config = config
        self.api_base = config["GRAPH_API_BASE"].rstrip("/")
        self.mailbox = mailbox or config["GRAPH_MAILBOX"]
        self._session = requests.Session()
        self._success_noted = False

    def mailbox_path(self, *parts: str) -> str:
        """``users/{mailbox}/…`` with each id part quoted for use in a URL path."""
        quoted = [quote(part, safe="()'") for part in parts]
        return "/".join([f"users/{quote(self.mailbox, safe='@')}", *quoted])

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> dict:
        return self.request("GET", path, params=params, headers=headers)

    def post(self, path: str, body: dict | None = None) -> dict:
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: dict) -> dict:
        return self.request("PATCH", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
        headers: dict | None = None,
    ) -> dict:
        """Call Graph; the JSON answer ({} for 202/204). Raises :class:`GraphError`."""
        try:
            answer = self._call(method, path, params, body, headers)
            if answer.status_code in RETRY_STATUSES:
                wait = _retry_after(answer)
                if wait is not None and wait <= INLINE_RETRY_LIMIT:
                    time.sleep(wait)
                    answer = self._call(method, path, params, body, headers)
            result = self._result(answer)
        except GraphError as exc:
            # 404 is Graph answering about one resource (a deleted mail, a lapsed
            # subscription), not a sign that the provider or our access is failing.
            if exc.status != 404:
                self._note_failure(f"{method} {path.split('?')[0]}: {exc}", exc.auth_failure)
            raise
        self._note_success()
        return result

    def _call(self, method, path, params, body, headers) -> requests.Response:
        url = self._url(path)
        all_headers = {"Authorization": f"Bearer {self._access_token()}", **(headers or {})}
        try:
            return self._session.request(
                method, url, params=params, json=body, headers=all_headers, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            raise GraphError(f"no answer from Graph ({type(exc).__name__})") from exc

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            # nextLink/deltaLink come back absolute; never send the token elsewhere.
            if not path.startswith(self.api_base + "/"):
                raise GraphError("Graph returned a link to another host", code="foreign_link")
            return path
        return f"{self.api_base}/v1.0/{path.lstrip('/')}"

    def _access_token(self) -> str:
        try:
            result = _token_app(self.config).acquire_token_for_client(scopes=SCOPES)
        except (requests.RequestException, ValueError) as exc:
            # ValueError: MSAL could not read the authority's OpenID configuration.
            raise GraphError(f"could not reach the token authority ({exc})") from exc
        if "access_token" in result:
            return result["access_token"]
        error = result.get("error", "unknown_error")
        description = (result.get("error_description") or "").splitlines()[0:1]
        # invalid_client and friends: the secret or app registration is wrong.
        status = 503 if error in ("temporarily_unavailable", "server_error") else 401
        raise GraphError(
            f"token request refused: {error} {' '.join(description)}".strip(),
            status=status,
            code=error,
        )

    def _result(self, answer: requests.Response) -> dict:
        if answer.status_code in (202, 204) or (answer.ok and not answer.content):
            return {}
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.ok and isinstance(data, dict):
            return data
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code") or f"http_{answer.status_code}"
        message = error.get("message") or answer.reason or "unreadable answer"
        raise GraphError(
            f"Graph {answer.status_code} {code}: {message}"[:500],
            status=answer.status_code,
            code=code,
            retry_after=_retry_after(answer),
        )

    def _note_success(self) -> None:
        # Once per client (one job's worth of calls) is enough for the status page.
        if not self._success_noted:
            self._success_noted = _record_apart(record_success, PROVIDER)

    def _note_failure(self, message: str, unhealthy: bool) -> None:
        log.warning("Graph call failed: %s", message)
        _record_apart(record_failure, PROVIDER, message, unhealthy=unhealthy)


def _record_apart(record, *args, **kwargs) -> bool:
    """Run a provider-status update in its own app context, hence its own transaction."""
    try:
        with current_app._get_current_object().app_context():
            record(*args, **kwargs)
            commit()
        return True
    except SQLAlchemyError:
        log.exception("could not record the Graph provider status")
        return False


def _retry_after(answer: requests.Response) -> float | None:
    raw = answer.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def graph_time(moment: datetime) -> str:
    """A datetime as Graph writes them: ISO 8601 in UTC with a "Z"."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_graph_time(value: str) -> datetime:
    """Graph's ISO 8601 timestamps ("…Z", up to 7 decimals) as aware UTC datetimes."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
