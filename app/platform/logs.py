"""Logging set-up: every line names the request or job it belongs to, and no secret
sent in a query string (see :mod:`app.platform.security.redaction`).

A request gets an id (the caller's ``X-Request-ID`` when it is a sane one, else a
new one), answered in ``X-Request-ID`` and carried by the jobs it enqueues
(:func:`app.platform.jobs.queues.enqueue`), so one search finds a request and the work it
caused in every process. ``LOG_FORMAT=json`` writes one JSON object a line, for a
log collector; the default is plain text.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import uuid

from app.platform.security.redaction import QuerySecretsFilter

_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# An id a caller may hand us: short, and nothing a log line could be forged with.
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` and ``request_id`` to every record (``-`` when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _job_id.get() or "-"
        record.request_id = _request_id.get() or "-"
        return True


@contextlib.contextmanager
def job_context(job_id: str, request_id: str | None = None):
    """Inside a job: its id, and the id of the request that enqueued it (if any)."""
    job_token = _job_id.set(job_id)
    request_token = _request_id.set(request_id)
    try:
        yield
    finally:
        _job_id.reset(job_token)
        _request_id.reset(request_token)


def current_request_id() -> str | None:
    return _request_id.get()


def begin_request(given: str | None) -> str:
    """The id of the request now starting: ``given`` when sane, else a new one."""
    request_id = given if given and _SANE_ID.match(given) else uuid.uuid4().hex
    _request_id.set(request_id)
    return request_id


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request and job ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "job_id": getattr(record, "job_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Configure the root logger once per process."""
    root = logging.getLogger()
    if any(isinstance(f, JobIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.addFilter(QuerySecretsFilter())
    # Werkzeug's request log (``python wsgi.py``) also on the logger itself, so
    # any handler a deployment adds there gets the redacted line too.
    logging.getLogger("werkzeug").addFilter(QuerySecretsFilter())
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [job %(job_id)s] [req %(request_id)s] "
                "%(message)s"
            )
        )
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app) -> None:
    """Give every request its id, and answer it in ``X-Request-ID``."""
    from flask import g, request

    @app.before_request
    def _name_the_request() -> None:
        g.request_id = begin_request(request.headers.get(REQUEST_ID_HEADER))

    @app.after_request
    def _answer_the_id(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def _forget_the_request(_exc=None) -> None:
        _request_id.set(None)
