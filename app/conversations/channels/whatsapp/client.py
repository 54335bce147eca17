"""Talking to Meta's Graph API for WhatsApp: URLs, the token, timeouts, errors.

The transport (sending) and the media job (downloading) share this, so every
call has the same timeout, the token only ever travels in the Authorization
header, and Meta's error answers are read the same way everywhere.

Meta answers errors as ``{"error": {"message", "type", "code", "error_subcode",
"error_data": {"details"}, "fbtrace_id"}}``; what to do about one depends on its
``code``, not on the HTTP status (a rate limit is a 400, an expired token a 401).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

# (connect, read) seconds. Well inside the deliveries queue's 60 s job timeout.
TIMEOUT = (5, 20)
CHUNK_BYTES = 64 * 1024

# Meta's codes that mean "try again later": throttling and temporary trouble.
RETRYABLE_CODES = frozenset(
    {
        1,  # API unknown (transient)
        2,  # API service temporarily unavailable
        4,  # application request limit
        80007,  # WhatsApp Business account rate limit
        130429,  # Cloud API throughput limit
        131000,  # something went wrong (internal)
        131016,  # service unavailable
        131056,  # too many messages to the same recipient
        133004,  # server temporarily unavailable
    }
)
TOKEN_INVALID = 190
RE_ENGAGEMENT = 131047

_local = threading.local()


def _session() -> requests.Session:
    """This thread's session: its connection to the Graph API is kept open.

    ``requests.request`` made a new session for every message sent, and with it a
    new connection, TLS context and handshake, closed after the one call: against
    a local fake, 4.3 ms of CPU a call over HTTPS where plain HTTP took 2.0
    (client and fake server in one process). A session per thread, because a
    session is not meant to be shared by threads; a connection the API closed
    meanwhile is noticed before it is used and a new one opened.
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        # Each call stands alone, as before: no cookie of one answer goes with the next.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


class ApiFailure(Exception):
    """A call Meta refused or never answered; ``retryable`` says if waiting may help."""

    def __init__(
        self,
        reason: str,
        retryable: bool,
        code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.http_status = http_status

    @property
    def token_invalid(self) -> bool:
        """Meta's 190: the access token expired or was revoked."""
        return self.code == TOKEN_INVALID


class WhatsAppApi:
    """The Graph API as configured by ``WHATSAPP_*`` settings."""

    def __init__(self, config: Mapping) -> None:
        self.base = str(config.get("WHATSAPP_API_BASE") or "https://graph.facebook.com").rstrip("/")
        self.version = str(config.get("WHATSAPP_API_VERSION") or "v18.0").strip("/")
        self.phone_number_id = config.get("WHATSAPP_PHONE_NUMBER_ID")
        self._token = config.get("WHATSAPP_ACCESS_TOKEN")

    @property
    def configured(self) -> bool:
        """Whether there is a token at all (without one the sandbox stands in)."""
        return bool(self._token)

    def url(self, *parts: str) -> str:
        """``{base}/{version}/{parts…}``."""
        return "/".join([self.base, self.version, *(str(p).strip("/") for p in parts)])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def post_json(self, path: str, body: dict) -> dict:
        """POST ``body`` to ``{base}/{version}/{path}``; the answer's JSON or ApiFailure."""
        return self._json(self._call("POST", self.url(path), json=body))

    def upload_media(self, filename: str, mime_type: str, data: bytes) -> str:
        """Upload a file for sending (``POST /{phone-number-id}/media``); its media id.

        Multipart, as Meta documents it: ``messaging_product=whatsapp``, the
        ``type`` and the ``file`` itself. The id can be sent for 30 days.
        """
        answer = self._json(
            self._call(
                "POST",
                self.url(str(self.phone_number_id), "media"),
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, data, mime_type)},
            )
        )
        media_id = answer.get("id")
        if not media_id:
            raise ApiFailure("the media upload answer carried no id", True)
        return str(media_id)

    def get_json(self, path: str) -> dict:
        """GET ``{base}/{version}/{path}``; the answer's JSON or ApiFailure."""
        return self._json(self._call("GET", self.url(path)))

    def stream(self, url: str) -> Iterator[bytes]:
        """The bytes behind a media URL from Meta, in chunks; ApiFailure if refused.

        The URL comes out of an API answer, so the token is only sent to it over
        HTTPS, or to the configured API host itself (a local fake in tests).
        """
        if not self._may_receive_token(url):
            raise ApiFailure("the media URL is not HTTPS; not sending the token there", False)
        response = self._call("GET", url, stream=True)
        if response.status_code >= 400:
            try:
                self._json(response)  # raises with Meta's reason
            finally:
                response.close()
        try:
            yield from response.iter_content(CHUNK_BYTES)
        except requests.RequestException as exc:
            raise ApiFailure(f"the media download broke off ({type(exc).__name__})", True) from exc
        finally:
            response.close()

    def _may_receive_token(self, url: str) -> bool:
        target, api = urlsplit(url), urlsplit(self.base)
        return target.scheme == "https" or (
            target.scheme == api.scheme and target.netloc == api.netloc
        )

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return _session().request(
                method, url, headers=self._headers(), timeout=TIMEOUT, **kwargs
            )
        except requests.Timeout as exc:
            raise ApiFailure("the WhatsApp API did not answer in time", True) from exc
        except requests.RequestException as exc:
            # The exception text can carry the URL; the reason names only the kind.
            raise ApiFailure(
                f"the WhatsApp API could not be reached ({type(exc).__name__})", True
            ) from exc

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code < 400 and isinstance(data, dict):
            return data
        raise failure_from(response.status_code, data)


def failure_from(http_status: int, data: object) -> ApiFailure:
    """Read Meta's error answer into an :class:`ApiFailure`."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        retryable = http_status >= 500 or http_status == 429
        return ApiFailure(f"HTTP {http_status} from the WhatsApp API", retryable, None, http_status)
    code = error.get("code")
    code = code if isinstance(code, int) else None
    message = str(error.get("message") or "no message")
    details = (
        (error.get("error_data") or {}).get("details")
        if isinstance(error.get("error_data"), dict)
        else None
    )
    reason = f"{code}: {message}" if code is not None else message
    if details and details not in reason:
        reason = f"{reason} ({details})"
    retryable = code in RETRYABLE_CODES or http_status >= 500
    return ApiFailure(reason, retryable, code, http_status)
