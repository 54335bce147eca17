"""``/settings/calendar``: where a user's visits appear; ``/calendar/<token>.ics``: the feed."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.orders.calendar_sync.feed import (
    feed_calendar,
    feed_owner,
    issue_feed_token,
    revoke_feed_token,
)
from app.orders.calendar_sync.forms import CalendarSettingsForm, FeedForm
from app.orders.calendar_sync.jobs import queue_technician_sync
from app.orders.calendar_sync.mailboxes import (
    InvalidCalendarSettings,
    calendar_mailbox_of,
    update_calendar_settings,
)
from app.platform.auth.decorators import login_required
from app.platform.extensions import db
from app.platform.models.enums import Role
from app.platform.security.access import declare, public
from app.platform.transactions import commit

bp = Blueprint("calendar", __name__)

VISIT_ROLES = (Role.TECHNICIAN, Role.TEAM_LEAD)


@bp.get("/calendar/<token>.ics")
@declare(public("a calendar app fetching the feed; the token in the URL is the secret"))
def feed(token: str):
    """The private feed; 404 for a wrong or revoked token (nothing to tell apart)."""
    user = feed_owner(token)
    if user is None:
        abort(404)
    response = Response(feed_calendar(user, _host()), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="chargecars.ics"'
    return response


@bp.route("/settings/calendar", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = CalendarSettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            changed = update_calendar_settings(
                user,
                mailbox=form.calendar_mailbox.data or "",
                outlook_calendar=form.outlook_calendar.data,
            )
        except InvalidCalendarSettings as exc:
            db.session.rollback()
            form.calendar_mailbox.errors = [exc.fields["calendar_mailbox"]]
            status = 422
        else:
            commit()
            if changed:
                # Visits already in a calendar move to the new one (or leave Outlook).
                queue_technician_sync(user.id)
            flash(_("Your calendar settings are saved."), "info")
            return redirect(url_for("calendar.settings"))
    elif form.is_submitted():
        status = 400
    else:
        form.outlook_calendar.data = user.outlook_calendar
        form.calendar_mailbox.data = user.calendar_mailbox or ""
    return _page(form, status=status)


@bp.post("/settings/calendar/feed")
@login_required
def new_feed():
    """Make a (new) feed address and show it this once; the old one stops working."""
    if not FeedForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    token = issue_feed_token(user)
    commit()
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("calendar.feed", token=token)
    return _page(CalendarSettingsForm(formdata=None, obj=user), feed_url=url)


@bp.post("/settings/calendar/feed/revoke")
@login_required
def revoke_feed():
    if not FeedForm().validate_on_submit():
        abort(400)
    revoke_feed_token(current_user._get_current_object())
    commit()
    flash(_("The calendar link no longer works."), "info")
    return redirect(url_for("calendar.settings"))


def _page(form: CalendarSettingsForm, *, status: int = 200, feed_url: str | None = None):
    user = current_user._get_current_object()
    return (
        render_template(
            "calendar_sync/settings.html",
            form=form,
            feed_form=FeedForm(formdata=None),
            default_mailbox=user.email,
            mailbox=calendar_mailbox_of(user),
            has_feed=user.calendar_feed_hash is not None,
            # Technicians get visits (Outlook or the feed); other staff's Outlook
            # calendars give follow-ups (app.orders.calendar_sync.subscriptions).
            gets_visits=user.role in VISIT_ROLES,
            feed_url=feed_url,
            webcal_url=_webcal(feed_url) if feed_url else None,
        ),
        status,
    )


def _webcal(url: str) -> str:
    # Phones open webcal:// links in their calendar app as a subscription.
    return "webcal://" + url.split("://", 1)[1]


def _host() -> str:
    return urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "switchboard"
