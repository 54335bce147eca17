"""Switchboard: a unified inbox and integration hub for field-service companies."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import socketio as socketio_server
from flask import Flask, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app import realtime  # noqa: F401  (registers the Socket.IO handlers)
from app.api.auth import load_user_from_request
from app.api.errors import ApiError, http_exception_as_json, json_error, wants_json
from app.config import Config, ensure_instance_secrets
from app.crypto import keyring
from app.extensions import csrf, db, htmx, login, migrate, socketio
from app.integrations.usage import init_usage_logging
from app.jobs.broker import Broker
from app.logs import configure_logging
from app.models import User

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, *, start_embedded_worker: bool = True) -> Flask:
    """Build the app.

    ``test_config`` overrides settings read from the environment. The embedded
    worker thread starts only when there is no ``REDIS_URL`` and the caller
    wants it (``worker.py`` and CLI commands do not).
    """
    configure_logging()
    app = Flask(
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
    keyring.configure(app.config["ENCRYPTION_KEYS"])

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    htmx.init_app(app)
    _init_login(app)

    broker = Broker.from_url(app.config["REDIS_URL"])
    app.extensions["broker"] = broker
    socketio.init_app(
        app,
        client_manager=_socketio_manager(app.config["REDIS_URL"]),
        async_mode="threading",
        # None = same origin only (engine.io honours X-Forwarded-Proto/Host), so
        # another site cannot open a socket with a signed-in user's cookie.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )

    _register_blueprints(app)
    _register_error_handlers(app)
    _register_cli(app)
    _register_template_helpers(app)

    if broker.embedded and start_embedded_worker:
        broker.start_embedded_worker(app)
    return app


def _socketio_manager(redis_url: str | None):
    """Room bookkeeping for Socket.IO: through Redis when there is one.

    Built here rather than by passing ``message_queue``, because the extension
    would otherwise keep the first app's manager for every later app.
    """
    if redis_url:
        return socketio_server.RedisManager(redis_url, channel="switchboard-socketio")
    return socketio_server.Manager()


def _init_login(app: Flask) -> None:
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = "Please sign in to continue."
    login.login_message_category = "info"
    # "basic": a technician on a mobile network changes address often; "strong"
    # would sign them out each time.
    login.session_protection = "basic"

    @login.user_loader
    def load_user(user_id: str):
        try:
            return db.session.get(User, uuid.UUID(user_id))
        except ValueError:
            return None

    login.request_loader(load_user_from_request)

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


def _register_blueprints(app: Flask) -> None:
    from app.admin.routes import bp as admin_bp
    from app.analytics.routes import bp as analytics_bp
    from app.api.docs import bp as api_docs_bp
    from app.assignment.routes import bp as assignment_admin_bp
    from app.attachments.routes import bp as attachments_bp
    from app.auth.routes import bp as auth_bp
    from app.channels.email.routes import bp as sendgrid_webhook_bp
    from app.channels.outlook.routes import bp as outlook_webhook_bp
    from app.channels.routes import bp as channels_admin_bp
    from app.channels.sms.routes import bp as sms_webhook_bp
    from app.channels.whatsapp.routes import bp as whatsapp_webhook_bp
    from app.email_intake.routes import bp as email_intake_bp
    from app.external.routes import bp as external_api_bp
    from app.fillout.admin import bp as intake_forms_bp
    from app.fillout.routes import bp as fillout_webhook_bp
    from app.health.routes import bp as health_bp
    from app.inbox.routes import bp as inbox_bp
    from app.integrations.api import bp as integrations_api_bp
    from app.integrations.endpoint_routes import bp as integration_webhooks_bp
    from app.integrations.routes import bp as integrations_bp
    from app.integrations.sync_routes import bp as integration_sync_bp
    from app.integrations.webhook_routes import bp as provider_webhooks_bp
    from app.make.routes import bp as make_webhook_bp
    from app.message_templates.api import bp as templates_api_bp
    from app.message_templates.routes import bp as templates_bp
    from app.message_templates.routes import preview_bp as template_preview_bp
    from app.mobile.routes import bp as mobile_bp
    from app.notifications.api import bp as notifications_api_bp
    from app.notifications.routes import bp as notifications_bp
    from app.orders.api import bp as orders_api_bp
    from app.orders.routes import bp as orders_bp
    from app.partners.api import bp as partner_api_bp
    from app.partners.routes import bp as partners_admin_bp
    from app.partners.webhook_routes import bp as partner_status_webhook_bp
    from app.sla.routes import bp as sla_admin_bp
    from app.tasks.api import bp as tasks_api_bp
    from app.tasks.routes import bp as tasks_bp
    from app.threads.api import bp as threads_api_bp
    from app.threads.routes import bp as threads_bp
    from app.webhooks.routes import bp as webhook_events_bp

    for blueprint in (
        auth_bp,
        health_bp,
        inbox_bp,
        admin_bp,
        mobile_bp,
        attachments_bp,
        notifications_bp,
        notifications_api_bp,
        threads_bp,
        threads_api_bp,
        tasks_bp,
        tasks_api_bp,
        templates_bp,
        templates_api_bp,
        template_preview_bp,
        whatsapp_webhook_bp,
        outlook_webhook_bp,
        sms_webhook_bp,
        sendgrid_webhook_bp,
        external_api_bp,
        channels_admin_bp,
        webhook_events_bp,
        orders_api_bp,
        orders_bp,
        partners_admin_bp,
        partner_api_bp,
        api_docs_bp,
        partner_status_webhook_bp,
        make_webhook_bp,
        fillout_webhook_bp,
        intake_forms_bp,
        email_intake_bp,
        assignment_admin_bp,
        analytics_bp,
        sla_admin_bp,
        integrations_bp,
        integrations_api_bp,
        integration_webhooks_bp,
        integration_sync_bp,
        # Last: /api/v1/webhooks/<provider> must not shadow the channels' fixed paths.
        provider_webhooks_bp,
    ):
        app.register_blueprint(blueprint)
    init_usage_logging(app)


def _register_error_handlers(app: Flask) -> None:
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
            title="Form expired",
            message=f"{exc.description} Reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            return http_exception_as_json(exc)
        titles = {403: "Not allowed", 404: "Not found", 429: "Slow down"}
        return render_template(
            "errors/error.html",
            code=exc.code,
            title=titles.get(exc.code, exc.name),
            message=exc.description,
        ), exc.code


def _register_cli(app: Flask) -> None:
    from app.cli import register_commands

    register_commands(app)


def _register_template_helpers(app: Flask) -> None:
    from app.ui import register_template_helpers

    register_template_helpers(app)
