"""Switchboard: a unified inbox and integration hub for field-service companies."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.platform import (
    database_outages,
    error_reports,
    i18n,
    live_queues,
    live_sockets,
    logs,
    metrics,
    realtime,
    security,
    static_files,
)
from app.platform.auth.cookies import CookieSessions
from app.platform.auth.decorators import SecondFactorRequired
from app.platform.auth.sessions import load_user
from app.platform.auth.signin import restore_remembered_session
from app.platform.config import Config
from app.platform.crypto import keyring
from app.platform.database import ping_when_idle
from app.platform.database_outages import RetriesAfterDisconnect
from app.platform.extensions import csrf, db, htmx, login, migrate, socketio
from app.platform.features import collect, resolve
from app.platform.instance_secrets import ensure_instance_secrets, ensure_private_sqlite_file
from app.platform.jobs.broker import Broker
from app.platform.json_api.auth import bearer_token, load_user_from_request
from app.platform.json_api.errors import ApiError, http_exception_as_json, json_error, wants_json
from app.platform.logs import configure_logging
from app.platform.models.enums import Role
from app.platform.security.access import declare, public

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, *, start_embedded_worker: bool = False) -> Flask:
    """Build the app.

    ``test_config`` overrides settings read from the environment. Building an
    app starts no thread: the embedded worker (no ``REDIS_URL``) is started by
    whoever serves requests (``python wsgi.py``, gunicorn's ``post_worker_init``
    hook, or a caller passing ``start_embedded_worker=True``), so CLI commands
    such as ``db upgrade`` never run jobs against a schema that is not there yet.
    """
    configure_logging()
    app = RetriesAfterDisconnect(
        __name__,
        instance_path=os.environ.get("SWITCHBOARD_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(Config.from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)
    ensure_instance_secrets(app.instance_path, app.config)
    ensure_private_sqlite_file(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"])
    keyring.configure(app.config["ENCRYPTION_KEYS"])

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    security.init_app(app)
    htmx.init_app(app)
    static_files.init_app(app)
    i18n.init_app(app)
    _init_login(app)

    broker = Broker.from_url(app.config["REDIS_URL"])
    app.extensions["broker"] = broker
    socketio.init_app(
        app,
        client_manager=_socketio_manager(app.config["REDIS_URL"]),
        async_mode=realtime.async_mode(),
        # None = same origin only (engine.io honours X-Forwarded-Proto/Host), so
        # another site cannot open a socket with a signed-in user's cookie.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )

    live_queues.install(socketio.server, app.config)
    # On gevent (the pages process), one waiting greenlet per open connection instead of four.
    live_sockets.install(socketio.server)

    logs.init_app(app)
    _register_features(app, broker)
    metrics.init_app(app)
    error_reports.init_app(app)
    _register_error_handlers(app)
    _register_cli(app)
    _register_template_helpers(app)
    _register_favicon(app)

    _trust_proxies(app)

    if broker.embedded and start_embedded_worker:
        broker.start_embedded_worker(app)
    return app


# A week: the icon changes with a release at most, and every page asks for it.
FAVICON_MAX_AGE = 7 * 24 * 3600


def _register_favicon(app: Flask) -> None:
    """The icon at the address browsers ask for by themselves (``/favicon.ico``).

    Pages link it too; pages that do not (the API viewer, a JSON error) would
    otherwise log a 404 in the console. Cached, unlike other dynamic answers.
    """

    @declare(public("the browser's tab icon"))
    def favicon():
        response = send_from_directory(
            app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=FAVICON_MAX_AGE
        )
        response.cache_control.public = True
        return response

    app.add_url_rule("/favicon.ico", "favicon", favicon)


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXY_HOPS`` load balancers, see the client they saw.

    Each trusted proxy appends to X-Forwarded-For; ProxyFix takes the address
    that many hops from the right, so ``remote_addr`` (and the sign-in throttle
    keyed on it) is the real client, and addresses a client wrote into the
    header itself are never believed. With 0 the headers are ignored entirely.
    X-Forwarded-Host is not trusted: links are built from ``PUBLIC_BASE_URL``.
    Applied last so it wraps the Socket.IO middleware too.
    """
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops < 0:
        raise RuntimeError(f"TRUSTED_PROXY_HOPS must be 0 or more, got {hops}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _socketio_manager(redis_url: str | None):
    """Room bookkeeping for Socket.IO: through Redis when there is one.

    Built here rather than by passing ``message_queue``, because the extension
    would otherwise keep the first app's manager for every later app.
    """
    if redis_url:
        # Redis publish/subscribe ignores the database number: two installations
        # on one Redis server (db 1 and db 2) would hear each other's events.
        database = urlsplit(redis_url).path.strip("/") or "0"
        return realtime.PipelinedRedisManager(
            redis_url, channel=f"switchboard-socketio-db{database}"
        )
    return realtime.LocalManager()


def _init_login(app: Flask) -> None:
    app.session_interface = CookieSessions()
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = "Please sign in to continue."
    login.login_message_category = "info"
    # "basic": a technician on a mobile network changes address often; "strong"
    # would sign them out each time.
    login.session_protection = "basic"

    # The session names the user and their session version (User.get_id), so
    # signing out anywhere ends it (app/platform/auth/sessions.py).
    login.user_loader(load_user)

    @login.request_loader
    def load_user_without_session(req):
        # A bearer token on the JSON API, else a remembered browser's cookie.
        if bearer_token() is not None:
            return load_user_from_request(req)
        return restore_remembered_session(req)

    @login.unauthorized_handler
    def unauthorized():
        if wants_json():
            return json_error(401, "authentication_required", "Sign in, or send a bearer token.")
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            response = app.response_class(status=401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    @app.errorhandler(SecondFactorRequired)
    def second_factor_required(exc: SecondFactorRequired):
        if current_user.is_authenticated and current_user.role == Role.PARTNER:
            message = gettext(
                "The partner portal needs two-factor sign-in. Complete it below to continue."
            )
        else:
            message = gettext(
                "Admin pages and integrations need two-factor sign-in. "
                "Complete it below to continue."
            )
        if wants_json():
            return json_error(403, "two_factor_required", message)
        # Back to the page after setup; a form post cannot be repeated by a link.
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        target = url_for("security.index", next=back)
        if request.headers.get("HX-Request"):
            response = app.response_class(status=403)
            response.headers["HX-Redirect"] = target
            return response
        flash(message, "info")
        return redirect(target)


def _register_features(app: Flask, broker: Broker) -> None:
    """Add what every feature declared (see :mod:`app.platform.features`)."""
    registry = collect()
    app.extensions["features"] = registry
    for path in registry.blueprints:
        app.register_blueprint(resolve(path))
    for module in registry.listeners:
        import_module(module)  # its @listens_to registers the listeners
    for path in registry.init_apps:
        resolve(path)(app)
    broker.periodic_jobs = tuple(registry.periodic_jobs)


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
    429: _l("Slow down"),
    500: _l("Something went wrong"),
}

# Werkzeug's own descriptions are English; an abort() in our code passes its own,
# already translated text, which is shown as it is.
ERROR_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist, or it was removed."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Try again later."),
}


def _error_message(exc: HTTPException) -> str:
    size_limit = getattr(exc, "size_limit", None)  # set by app.platform.security.bodies
    if size_limit:
        return gettext(
            "The request is larger than %(size)s, the most this address takes.", size=size_limit
        )
    if exc.description == type(exc).description and exc.code in ERROR_MESSAGES:
        return str(ERROR_MESSAGES[exc.code])
    return exc.description or ""


def _register_error_handlers(app: Flask) -> None:
    database_outages.init_app(app)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return json_error(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if wants_json():
            return json_error(400, "csrf_failed", exc.description)
        return render_template(
            "errors/error.html",
            code=400,
            title=gettext("Form expired"),
            message=gettext("The form has expired. Reload the page and try again."),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            return http_exception_as_json(exc)
        return render_template(
            "errors/error.html",
            code=exc.code,
            title=ERROR_TITLES.get(exc.code, exc.name),
            message=_error_message(exc),
        ), exc.code


def _register_cli(app: Flask) -> None:
    from app.cli import register_commands

    register_commands(app)


def _register_template_helpers(app: Flask) -> None:
    from app.platform.theme import register_theme
    from app.platform.ui import register_template_helpers

    register_template_helpers(app)
    register_theme(app)
