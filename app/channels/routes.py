"""Admin page of channels: each provider's state, a test send, the sandbox outbox."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.channels.status import provider_states, recent_sandbox_sends
from app.channels.testing import InvalidRecipient, check_recipient
from app.jobs.queues import enqueue
from app.models.enums import Role

bp = Blueprint("channels_admin", __name__, url_prefix="/admin/channels")


def _page(status: int = 200, **extra):
    return (
        render_template(
            "channels/index.html",
            providers=provider_states(),
            sandbox_sends=recent_sandbox_sends(),
            **extra,
        ),
        status,
    )


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _page()


@bp.post("/test")
@role_required(Role.ADMIN)
def send_test():
    provider = request.form.get("provider", "")
    try:
        recipient = check_recipient(provider, request.form.get("recipient", ""))
    except InvalidRecipient as exc:
        return _page(422, test_errors={provider: str(exc)})
    enqueue("app.channels.testing.send_test", provider, recipient, str(current_user.id))
    flash(f"Test via {provider} queued; the outcome arrives as a notification.", "info")
    return redirect(url_for("channels_admin.index"), 303)
