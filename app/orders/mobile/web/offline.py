"""``/m/`` as an installable app: manifest, service worker, push subscriptions.

The service worker is served from ``/m/sw.js`` so its scope is ``/m/`` and no
wider: it keeps the day page and its scripts and styles for when the signal is
gone (``static/js/mobile-sw.js``), and shows Web Push notifications. The page's
own script (``static/js/mobile-offline.js``) keeps form posts made offline and
sends them later (see :mod:`app.orders.mobile.replay`).
"""

from __future__ import annotations

import json

import click
from flask import Blueprint, Flask, current_app, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.orders.mobile.push import (
    SubscriptionRefused,
    generate_vapid_keys,
    push_enabled,
    subscribe,
    unsubscribe,
)
from app.platform.auth.decorators import role_required
from app.platform.database import utcnow
from app.platform.models.enums import Role
from app.platform.security.access import declare, public
from app.platform.transactions import commit

bp = Blueprint("mobile_offline", __name__, url_prefix="/m")
PHONE_ROLES = (Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)
# Colours of the installed app's title bar and splash (static/css/theme.css).
THEME_COLOUR = "#0b6bcb"
BACKGROUND_COLOUR = "#f4f5f7"


@bp.app_context_processor
def _phone_app_context():
    # Cheap for every page; only the /m/ templates use them.
    return {
        "phone_rendered_at": utcnow(),
        "phone_push_key": current_app.config.get("VAPID_PUBLIC_KEY") if push_enabled() else None,
    }


@bp.get("/manifest.webmanifest")
@declare(public("the phone app's manifest, fetched before sign-in"))
def manifest():
    """The web app manifest: installs ``/m/`` as "Switchboard" on the phone's home screen."""
    body = {
        "name": "Switchboard — " + _("My day"),
        "short_name": "Switchboard",
        "description": _("Today's visits and tasks, also without a signal."),
        "start_url": url_for("mobile.today"),
        "scope": url_for("mobile.today"),
        "id": url_for("mobile.today"),
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": url_for("static", filename=f"icons/technician-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
@declare(public("the service worker script; it holds no data"))
def service_worker():
    """The service worker, from ``/m/`` so that its scope is the phone view."""
    response = send_from_directory(
        current_app.static_folder, "js/mobile-sw.js", mimetype="text/javascript", max_age=0
    )
    # Browsers look for a new worker on each visit; never serve it from a cache.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for("mobile.today")
    return response


@bp.post("/push/subscription")
@role_required(*PHONE_ROLES)
def push_subscribe():
    """Keep this browser's push subscription (JSON ``PushSubscription.toJSON()``)."""
    if not push_enabled():
        return {"error": _("Push notifications are not set up on this server.")}, 404
    try:
        subscribe(current_user.id, request.get_json(silent=True) or {})
    except SubscriptionRefused:
        return {"error": _("This browser's subscription could not be used.")}, 422
    commit()
    return {"subscribed": True}, 201


@bp.post("/push/unsubscribe")
@role_required(*PHONE_ROLES)
def push_unsubscribe():
    """Forget this browser's push subscription (JSON ``{"endpoint": …}``)."""
    unsubscribe(current_user.id, str((request.get_json(silent=True) or {}).get("endpoint", "")))
    commit()
    return {"subscribed": False}


@click.command("push-keys")
def push_keys_command() -> None:
    """Print a new VAPID key pair for Web Push, as environment variables."""
    public, private = generate_vapid_keys()
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo(f"VAPID_PRIVATE_KEY={private}")


def init_app(app: Flask) -> None:
    """Register ``flask push-keys``."""
    app.cli.add_command(push_keys_command)
