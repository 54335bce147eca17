"""Hostile request bodies: too large, or JSON nested too deep.

Size. A request may carry at most ``MAX_REQUEST_BYTES`` (``MAX_CONTENT_LENGTH``
in the app config; 2 MB unless set): the largest bodies that are not uploads are
provider webhook batches, which :func:`app.platform.webhooks.recording.read_raw_body` caps at
1 MB, and API calls and forms are a few KB. A route that takes files declares its
own limit with :func:`accepts_body_up_to`. The limit is checked against
``Content-Length`` before anything reads the body (a URL value preprocessor runs
before every ``before_request``, the CSRF check's form parsing included), so a
2 GB upload is answered 413 at once instead of being spooled to disk. A chunked
body (no ``Content-Length``) is read up to the limit before the app sees it, and
answered 413 as soon as it passes the limit.

JSON. ``json.loads`` recurses once per level of nesting, so 100,000 ``[`` raise
``RecursionError``, which nothing expects (a 500, before authentication on the
webhooks). Every JSON body the app reads goes through :func:`loads`: the app's
JSON provider (``request.get_json``, silent or not) and the webhooks'
``parse_json``. Nesting deeper than :data:`MAX_JSON_DEPTH` is answered 400 in the
errors' JSON format (``bad_request`` from ``get_json``, ``malformed_json`` on the
webhooks), before any authentication on the webhooks.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from babel.numbers import format_decimal
from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from app.platform.ui import display_locale, local_number

MB = 1024 * 1024
CHUNK = 64 * 1024
# Far beyond any payload we take (Meta's webhooks nest 7 levels, partner orders 4),
# and far below the interpreter's recursion limit, so code walking a parsed body
# recursively is safe too.
MAX_JSON_DEPTH = 64

View = TypeVar("View", bound=Callable[..., Any])


class JSONTooDeep(ValueError):
    """The JSON document nests arrays and objects deeper than :data:`MAX_JSON_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"it nests more than {MAX_JSON_DEPTH} levels deep")


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` for bodies sent by anyone: :class:`JSONTooDeep` instead of a crash."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JSONTooDeep() from None
    if _nests_deeper_than(value, MAX_JSON_DEPTH):
        raise JSONTooDeep()
    return value


def _nests_deeper_than(value: Any, limit: int) -> bool:
    # Iterative on purpose: a recursive walk would meet the same recursion limit.
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class UntrustedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies through :func:`loads`.

    Too deep is a 400 even for ``get_json(silent=True)``, whose callers would
    otherwise each answer "not a JSON object" with a status of their own.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return loads(s, **kwargs)
        except JSONTooDeep as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}.") from exc


def accepts_body_up_to(limit: int) -> Callable[[View], View]:
    """Let one route take a body larger than ``MAX_REQUEST_BYTES`` (an upload).

    The limit is applied, like the global one, before the body is read.
    """

    def mark(view: View) -> View:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return mark


def refuse_oversized_body(endpoint: str | None, values: dict | None) -> None:
    """413 before any part of the app reads a body over the limit.

    From ``Content-Length`` alone when there is one. A chunked body has none:
    it is read here, never past the limit, into a spooled file that stands in
    for the input (Werkzeug's own limit would quietly cut it at the limit).
    """
    view = current_app.view_functions.get(endpoint) if endpoint else None
    limit = getattr(view, "max_body_bytes", None)
    if limit is not None:
        request.max_content_length = limit
    allowed = request.max_content_length
    if allowed is None:
        return
    length = request.content_length
    if length is None and _is_dechunked(request.environ):
        length = _buffer_chunked_body(request.environ, allowed)
    if length is not None and length > allowed:
        # Answered by the app's error handlers: JSON on API paths, a page elsewhere.
        # English for the JSON API; the page (app/__init__.py) says it in the reader's language.
        refusal = RequestEntityTooLarge(
            f"The request is larger than {size_label(allowed)}, the most this address takes."
        )
        refusal.size_limit = size_label(allowed)
        raise refusal


def _is_dechunked(environ: dict) -> bool:
    # A server that does not decode chunked bodies does not set wsgi.input_terminated,
    # and Werkzeug then gives the app no body at all: nothing to read here either.
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and bool(environ.get("wsgi.input_terminated"))


def _buffer_chunked_body(environ: dict, limit: int) -> int:
    """Read a chunked body up to ``limit`` + 1 bytes; its size (over ``limit``: refused)."""
    source = environ["wsgi.input"]
    # Kept open: it is the request's input from now on (freed with the request).
    spool = tempfile.SpooledTemporaryFile(max_size=MB)
    size = 0
    while chunk := source.read(min(CHUNK, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            spool.close()
            return size
        spool.write(chunk)
    spool.seek(0)
    environ["wsgi.input"] = spool
    return size


def size_label(size: int) -> str:
    """``12,3 MB`` / ``5 MB`` / ``840 KB``: sizes as people read them, with the reader's
    decimal sign ("5.7 MB" in English)."""
    if size >= MB:
        return format_decimal(size / MB, "#,##0.#", locale=display_locale()) + " MB"
    return local_number(max(1, round(size / 1024))) + " KB"


def init_app(app: Flask) -> None:
    app.json = UntrustedJSONProvider(app)
    app.url_value_preprocessor(refuse_oversized_body)
