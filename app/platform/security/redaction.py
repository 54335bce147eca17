"""Secrets in query strings, kept out of the logs.

Some providers put a secret in the URL they call: Meta's webhook handshake sends
``hub.verify_token``, Fillout may send ``?secret=``, OAuth callbacks carry a
``code`` and ``state`` (and Microsoft a ``session_state``). Other links carry
their secret in the path: the customer's rating link ``/csat/<token>``, their
order's page ``/t/<token>``, a
calendar feed, a partner's welcome link. Every access log prints the request
line, so the filter here rewrites such values to ``[redacted]`` in any log
line, whichever logger wrote it: this module is the one list of what is secret
in a URL. It is installed on the root handler
and Werkzeug's request log by :func:`app.platform.logs.configure_logging`, and on
gunicorn's access and error logs by ``gunicorn.conf.py``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
# Parameter names (compared without case, after URL-decoding) whose values are secrets.
SECRET_PARAMETERS = frozenset(
    {
        "hub.verify_token",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "code",
        "key",
        "api_key",
        "apikey",
        "signature",
        "sig",
        "password",
        "state",
        "session_state",
    }
)
# Paths whose next segment is a bearer secret (the route's ``<token>``).
SECRET_PATH_PREFIXES = ("/csat/", "/calendar/", "/portal/welcome/", "/t/")
# name=value after ? or & (or ;), the value ending where a query string ends in a log line.
_PARAMETER = re.compile(r"(?<=[?&;])([^=&;?#\s\"']+)=([^&;#\s\"']*)")
_PATH_SECRET = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in SECRET_PATH_PREFIXES) + r")"
    r"([^/?#\s\"']+?)(\.ics)?(?=[/?#\s\"']|$)"
)


def redact_query_secrets(text: str) -> str:
    """``text`` with secret query values and path tokens replaced by ``[redacted]``."""
    if any(prefix in text for prefix in SECRET_PATH_PREFIXES):
        text = _PATH_SECRET.sub(_redact_path, text)
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redact_pair, text)


def _redact_path(match: re.Match) -> str:
    return f"{match.group(1)}{REDACTED}{match.group(3) or ''}"


def _redact_pair(match: re.Match) -> str:
    name, value = match.group(1), match.group(2)
    if value and unquote_plus(name).lower() in SECRET_PARAMETERS:
        return f"{name}={REDACTED}"
    return match.group(0)


class QuerySecretsFilter(logging.Filter):
    """Rewrites a record whose message carries a secret query parameter."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when it is written
            return True
        redacted = redact_query_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
