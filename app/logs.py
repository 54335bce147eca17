"""Logging set-up: every line names the request or job it belongs to, and no secret
sent in a query string (see :mod:`app.security.redaction`)."""

from __future__ import annotations

import contextlib
import contextvars
import logging

from app.security.redaction import QuerySecretsFilter

_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` to every record (``-`` outside a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _job_id.get() or "-"
        return True


@contextlib.contextmanager
def job_context(job_id: str):
    token = _job_id.set(job_id)
    try:
        yield
    finally:
        _job_id.reset(token)


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
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [job %(job_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
