"""Requests across a PostgreSQL restart: retried once when safe, else 503, never 500.

A restart kills every pooled connection. Three things keep users and partners
from seeing errors for it:

- a connection handed out by the pool is looked at first (:mod:`app.platform.database`,
  ``ping_when_idle``): one whose server hung up has a readable socket, and is
  replaced before use. That check is one ``poll`` with no wait, so the hot path
  pays nothing measurable for it;
- a request that still meets a dead connection (the server went away without
  hanging up, or between checkout and the first statement) is run once more on a
  fresh one, when nothing of it has been committed yet: the dead connection took
  its uncommitted work with it, so the second run starts from the same state.
  So is one whose transaction the server ended to break a deadlock;
- while the database cannot be reached, pages, the JSON API and webhooks answer
  503 with ``Retry-After``: a page in the reader's language that says to wait,
  an error in the API's JSON for machines. Partners' systems and providers
  retry a 503 by themselves; nothing was half-written.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import psycopg
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from flask_babel import gettext

from app.platform.extensions import db
from app.platform.json_api.errors import json_error, wants_json

log = logging.getLogger(__name__)

# Seconds a client is asked to wait: a restart takes a few.
RETRY_AFTER_SECONDS = 5
# What "the database is away" looks like (a refused connect, a connection that died,
# a pool with none to give). Constraint and programming errors are not among them.
OUTAGES = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
    # The webhook's own connection (app.platform.webhooks.recording) speaks psycopg directly.
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_COMMITTED = "_database_committed"
_RETRIED = "_database_retried"


# Transactions the server ended so that others could go on: a deadlock's victim, a
# serialization failure. Nothing of them was kept, so they may run again (as a dead
# connection's), instead of a 503 that says the database is away when it is not.
ENDED_BY_THE_SERVER = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def may_retry(exc: BaseException) -> bool:
    """A dead pooled connection, or a transaction the server ended (above), met
    before anything of this request was committed: run it once more. (A refused
    connection is not retried: the database is down.)"""
    return (
        isinstance(exc, sa.exc.DBAPIError)
        and (exc.connection_invalidated or isinstance(exc.orig, ENDED_BY_THE_SERVER))
        and not g.get(_COMMITTED)
        and not g.get(_RETRIED)
    )


class RetriesAfterDisconnect(Flask):
    """Flask, running a request once more when it met a dead connection (see above)."""

    def handle_user_exception(self, e):
        if may_retry(e):
            g.setdefault(_RETRIED, True)
            if e.connection_invalidated:
                log.warning("a request met a dead database connection; running it once more")
            else:
                log.warning(
                    "the database ended a request's transaction (%s); running it once more",
                    e.orig.__class__.__name__,
                )
            _forget_the_dead_connection()
            try:
                answer = self.preprocess_request()
                return answer if answer is not None else self.dispatch_request()
            except Exception as again:  # noqa: BLE001  (answered as the first would be)
                e = again
        return super().handle_user_exception(e)


def _forget_the_dead_connection() -> None:
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        pass
    db.session.remove()
    # The signed-in user was loaded on the old session: load again on the new one.
    g.pop("_login_user", None)


def unavailable(exc: BaseException):
    """503 with ``Retry-After``: JSON for machines, a page without the database for people."""
    log.warning("database unavailable (%s): answered 503", exc.__class__.__name__)
    _forget_the_dead_connection()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        return json_error(
            503,
            "database_unavailable",
            "The database is briefly unavailable. Try again in a few seconds.",
            headers=headers,
        )
    # The page asks nothing of the database: nobody is signed in on it (the language
    # is the browser's), and it has no menus to fill.
    g._login_user = current_app.login_manager.anonymous_user()
    # A page asked for again is retried by the browser; a form sent is not resent.
    page = render_template(
        "errors/unavailable.html",
        title=gettext("Back in a moment"),
        retry_after=RETRY_AFTER_SECONDS if request.method == "GET" else None,
        back_url=_same_site(request.referrer) or url_for("auth.root"),
    )
    return page, 503, headers


def _same_site(address: str | None) -> str | None:
    """The path of ``address`` when it is a page of this site (no open redirect)."""
    if not address:
        return None
    parts = urlsplit(address)
    if parts.netloc and parts.netloc != request.host:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def init_app(app: Flask) -> None:
    for kind in OUTAGES:
        app.register_error_handler(kind, unavailable)
    # Runs before Flask-SQLAlchemy's own removal (teardowns run last registered first).
    app.teardown_appcontext(_remove_session)
    if not sa.event.contains(db.session, "after_commit", _committed):
        sa.event.listen(db.session, "after_commit", _committed)


def _remove_session(exc: BaseException | None) -> None:
    """End the request's session; a database gone meanwhile is no error of the request.

    The answer is already made when the context is torn down. If the server
    terminated the connection in that moment, the session's closing ROLLBACK fails
    (``AdminShutdown``) and, raised from the teardown, would turn the made answer
    into a 500. The connection is dead and nothing uncommitted survives it: the
    session is dropped, and the pool replaces the connection.
    """
    try:
        db.session.remove()
    except OUTAGES as error:
        log.warning("database went away as a request ended (%s)", error.__class__.__name__)
        db.session.registry.clear()


def _committed(session) -> None:
    if has_request_context():
        g.setdefault(_COMMITTED, True)
