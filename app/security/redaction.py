"""Secrets in query strings, kept out of the logs.

Some providers put a secret in the URL they call: Meta's webhook handshake sends
``hub.verify_token``, Fillout may send ``?secret=``, OAuth callbacks carry a
``code``. Every access log prints the request line with its query string, so
the filter here rewrites the values of such parameters to ``[redacted]`` in
any log line, whichever logger wrote it. It is installed on the root handler
and Werkzeug's request log by :func:`app.logs.configure_logging`, and on
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
    }
)
# name=value after ? or & (or ;), the value ending where a query string ends in a log line.
_PARAMETER = re.compile(r"(?<=[?&;])([^=&;?#\s\"']+)=([^&;#\s\"']*)")


def redact_query_secrets(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``[redacted]``."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redact_pair, text)


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
