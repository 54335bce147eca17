"""The thread page: header with inline edits, the timeline, and the composer.

On a desktop the page is the workspace: the conversation list stays on the left
and a conversation opens beside it (htmx asks for ``#workspace-detail`` only),
with the customer's sidebar on the right. Opening a conversation marks it read.
Every POST answers htmx with the partial it changed (422/409 partials carry the
error for the person to read); plain form posts get a full page or a redirect.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.conversations.attachments.storage import discard_message_files
from app.conversations.attachments.uploads import MAX_REQUEST_BYTES, composer_hint, size_label
from app.conversations.core import ReplyCollision, latest_message_id, mark_read, merge_pointer
from app.conversations.languages import customer_language
from app.conversations.languages.hints import language_hint
from app.conversations.merges.conversations import merge_not_allowed
from app.conversations.message_templates.services import get_template, templates_for_channel
from app.conversations.workspace.collision import collision_warning
from app.conversations.workspace.composer import composer_extras
from app.conversations.workspace.customer import customer_panel
from app.conversations.workspace.drafts import discard_draft
from app.conversations.workspace.editing import (
    NotTheVisitsToChange,
    StaleEdit,
    assignable_users,
    editable_fields,
    offered_statuses,
    update_thread,
)
from app.conversations.workspace.email_reply import email_composer
from app.conversations.workspace.message_body import message_text, repeats_subject
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import (
    InvalidInput,
    add_note,
    compose_reply,
    reachable_channels,
)
from app.conversations.workspace.technician_replies import TechnicianMayNotWrite
from app.conversations.workspace.template_choice import (
    chosen_template,
    composer_state,
    typed_variables,
    usable_templates,
)
from app.conversations.workspace.timeline import (
    InvalidCursor,
    timeline_from_message,
    timeline_page,
    timeline_since,
)
from app.platform.auth.decorators import STAFF_DESK_ROLES, login_required
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, Priority, TemplateCategory
from app.platform.security.bodies import accepts_body_up_to
from app.platform.transactions import commit

bp = Blueprint("threads", __name__)
# The timeline folds sign-offs and repeated subjects (app/conversations/workspace/message_body.py).
bp.add_app_template_global(message_text)
bp.add_app_template_global(repeats_subject)


def composer_context(
    thread, *, channel_id=None, form=None, errors=None, preview=None, collision=None
):
    channels = reachable_channels(thread)
    selected = next((c for c in channels if str(c.id) == str(channel_id)), None) or (
        channels[0] if channels else None
    )
    form = form or {}
    category = form.get("category") if form.get("category") in TemplateCategory.values() else None
    # Templates in the customer's language first; the hint above the reply says so.
    language = customer_language(thread.contact)
    templates = templates_for_channel(
        selected.channel_type.value if selected else None, category, language
    )
    # Past WhatsApp's 24-hour window only approved templates can be sent: say so,
    # and offer only those.
    usable = usable_templates(thread, selected, templates)
    templates, window_notice = usable.templates, usable.window_notice
    chosen = chosen_template(templates, form.get("template_id"))
    return {
        "thread": thread,
        "channels": channels,
        "selected_channel": selected,
        "categories": TemplateCategory.values(),
        "templates": templates,
        "window_notice": window_notice,
        "form": form,
        "errors": errors or {},
        "preview": preview,
        # The newest message on the page: a reply posted with it is checked
        # for crossing others' messages (app.conversations.core.collisions).
        "seen_message_id": str(latest_message_id(thread) or ""),
        "collision": collision,
        # To/CC prefill, the quote and the signatures of an e-mail reply.
        "email": (
            email_composer(thread, selected, current_user)
            if selected and selected.channel_type == ChannelType.EMAIL_OUTLOOK
            else None
        ),
        # The customer writes in another language than Dutch.
        "language_hint": language_hint(thread.contact, templates),
        "attachment_hint": composer_hint(selected.channel_type.value if selected else None),
        # The chosen template's variable inputs (prefilled) and text, if any.
        "template_state": composer_state(chosen, thread, current_user, form),
        # The user's drafts and WhatsApp's window countdown.
        **composer_extras(thread, current_user, usable.window, selected),
    }


def _header_context(thread, *, error=None):
    return {
        "thread": thread,
        # Merged into another conversation: the header points there (app/conversations/merges).
        "merged_into": merge_pointer(thread.id),
        # Who may not merge sees why beside the disabled control, not a 403 after it.
        "merge_not_allowed": merge_not_allowed(current_user),
        "users": assignable_users(thread),
        "editable": editable_fields(current_user),
        # Routing is desk work: a technician's page does not ask for a suggestion.
        "team_suggestion": current_user.role in STAFF_DESK_ROLES,
        "statuses": offered_statuses(thread, current_user),
        "priorities": Priority.values(),
        "header_error": error,
    }


def timeline_context(thread, page=None) -> dict:
    page = page or timeline_page(thread)
    return {
        "thread": thread,
        "entries": page.entries,
        "earlier_cursor": page.earlier_cursor,
        "from_cursor": page.from_cursor,
    }


def _linked_page(thread):
    """``?message=<id>`` (a notification's link): the timeline from that message on."""
    raw = request.args.get("message")
    if not raw:
        return None
    try:
        return timeline_from_message(thread, uuid.UUID(raw))
    except ValueError:
        abort(422, "Invalid message: not a message id.")


def _detail_context(thread, header_error=None, page=None, **composer) -> dict:
    return {
        **timeline_context(thread, page),
        **composer_context(thread, **composer),
        **_header_context(thread, error=header_error),
        "customer": customer_panel(thread, current_user),
    }


def _list_beside() -> dict:
    """Where the workspace loads its conversation list from (desk staff only).

    The list comes in its own request once it is on screen, so opening a
    conversation costs the conversation alone, and a phone (whose thread page
    hides the list) never asks for it.
    """
    if current_user.role not in STAFF_DESK_ROLES:
        return {}
    return {"list_url": url_for("inbox.index")}


def _page(thread, status: int = 200, header_error=None, page=None, **composer):
    return (
        render_template(
            "threads/show.html",
            **_list_beside(),
            **_detail_context(thread, header_error, page, **composer),
        ),
        status,
    )


@bp.get("/threads/<thread_id>")
@login_required
def show(thread_id):
    thread = thread_or_refuse(thread_id)
    merged = merge_pointer(thread.id) if request.args.get("message") else None
    if merged is not None:
        # A link to a message of a merged conversation: the message lives on there.
        return redirect(
            url_for("threads.show", thread_id=merged.kept_thread_id, **request.args), 303
        )
    # Read up to what this page shows, not "now": a customer message taken in
    # while it renders stays unread.
    shown_up_to = thread.last_customer_message_at
    page = _linked_page(thread)
    if request.htmx.target == "workspace-detail" and not request.htmx.history_restore_request:
        context = _detail_context(thread, page=page)
        html = render_template("threads/_detail.html", pane=True, **context)
    else:
        html, _status = _page(thread, page=page)
    # Marked after the page is built, so the list drawn beside it is the one
    # from before the agent opened this conversation.
    mark_read(thread, current_user, up_to=shown_up_to)
    commit()
    return html


@bp.get("/threads/<thread_id>/timeline")
@login_required
def timeline_partial(thread_id):
    """An earlier page (``before``), or the latest part for a live update.

    ``from`` re-reads the latest part the page already shows from where it
    starts (only ``#timeline-latest`` is answered, so earlier pages loaded above
    it stay). ``visible=1``: the agent has the page in front of them, so what it
    shows is read; a refresh in a background tab marks nothing.
    """
    thread = thread_or_refuse(thread_id)
    shown_up_to = thread.last_customer_message_at
    before, since = request.args.get("before"), request.args.get("from")
    try:
        if before:
            page = timeline_page(thread, before=before)
            return render_template(
                "threads/_timeline.html",
                thread=thread,
                entries=page.entries,
                earlier_cursor=page.earlier_cursor,
                fragment=True,
            )
        page = timeline_since(thread, since) if since else timeline_page(thread)
    except InvalidCursor:
        name = "before" if before else "from"
        abort(400, f"Invalid {name}: not a cursor this server handed out.")
    html = render_template(
        "threads/_timeline.html", **timeline_context(thread, page), latest_only=bool(since)
    )
    if request.args.get("visible") == "1":
        mark_read(thread, current_user, up_to=shown_up_to)
        commit()
    return html


@bp.get("/threads/<thread_id>/header")
@login_required
def header_partial(thread_id):
    return render_template("threads/_header.html", **_header_context(thread_or_refuse(thread_id)))


@bp.get("/threads/<thread_id>/composer")
@login_required
def composer(thread_id):
    """Re-render the composer for another channel, or prefilled from a template."""
    thread = thread_or_refuse(thread_id)
    channel_id = request.args.get("channel_id")
    template_id = request.args.get("template_id")
    form = {
        "channel_id": channel_id,
        "template_id": template_id,
        "category": request.args.get("category"),
    }
    if not template_id:
        return render_template(
            "threads/_composer.html", **composer_context(thread, channel_id=channel_id, form=form)
        )
    template = get_template(uuid_or_404(template_id))
    if template is None or not template.is_active:
        abort(404, _("There is no such template."))
    form.update({f"variables.{k}": v for k, v in typed_variables(request.args).items()})
    context = composer_context(thread, channel_id=channel_id, form=form)
    state = context["template_state"]
    if state is None:
        context["errors"] = {"template_id": _("This template cannot be sent on this channel now.")}
        return render_template("threads/_composer.html", **context), 422
    if not state.complete:
        # The inputs show what is missing; 422 as sending it now would be refused.
        return render_template("threads/_composer.html", **context), 422
    form.update(content=state.draft.body, subject=state.draft.subject or "")
    return render_template("threads/_composer.html", **context)


@bp.errorhandler(RequestEntityTooLarge)
def _reply_too_large(exc):
    thread = thread_or_refuse((request.view_args or {}).get("thread_id"))
    limit = size_label(MAX_REQUEST_BYTES)
    message = _("The attached files are over %(limit)s together; nothing was sent.", limit=limit)
    return composer_error(thread, {}, {"attachments": message})


@bp.post("/threads/<thread_id>/reply")
# Files ride along: raised before the CSRF check reads the form, so an upload over
# it is refused from its Content-Length instead of being spooled first.
@accepts_body_up_to(MAX_REQUEST_BYTES)
@login_required
def reply(thread_id):
    thread = thread_or_refuse(thread_id)
    form = request.form.to_dict()
    try:
        message = compose_reply(
            thread,
            current_user,
            content=form.get("content"),
            channel_id=form.get("channel_id") or None,
            subject=form.get("subject"),
            template_id=form.get("template_id") or None,
            variables=typed_variables(form),
            to=form.get("to"),
            cc=form.get("cc"),
            bcc=form.get("bcc"),
            uploads=[(f.filename, f.stream) for f in request.files.getlist("attachments")],
            # The composer offers the quote with a checkbox; unticked leaves it out.
            include_quote="quote_offered" not in form or form.get("quote") == "1",
            hold_seconds=current_app.config["SEND_UNDO_SECONDS"],
            # Absent (an old page, a script): no check; the composer always sends it.
            seen_message_id=form.get("seen_message_id"),
            confirm=form.get("confirm") == "1",
            suggestion_id=form.get("suggestion_id") or None,
        )
    except InvalidInput as exc:
        db.session.rollback()
        return composer_error(thread, form, exc.fields)
    except TechnicianMayNotWrite as exc:
        db.session.rollback()
        return composer_error(thread, form, {"content": str(exc)}, 403)
    except ReplyCollision as exc:
        db.session.rollback()
        return _collision(thread, form, exc)
    discard_draft(current_user, thread, "reply")
    # Queues the send and tells the thread's viewers; the ticks then move on
    # through live updates. No files without their message.
    try:
        commit()
    except Exception:
        db.session.rollback()
        discard_message_files(message.id)
        raise
    return _after_post(thread)


@bp.post("/threads/<thread_id>/note")
@login_required
def note(thread_id):
    thread = thread_or_refuse(thread_id)
    form = request.form.to_dict()
    try:
        add_note(thread, current_user, form.get("content"))
    except InvalidInput as exc:
        db.session.rollback()
        return composer_error(thread, {**form, "mode": "note"}, exc.fields)
    discard_draft(current_user, thread, "note")
    commit()
    return _after_post(thread)


@bp.post("/threads/<thread_id>/edit")
@login_required
def edit(thread_id):
    thread = thread_or_refuse(thread_id)
    form = request.form
    changes = {key: form[key] for key in ("status", "priority", "tags") if key in form}
    if "assigned_to_user_id" in form:
        changes["assigned_to_user_id"] = form["assigned_to_user_id"]
    try:
        expected = int(form.get("lock_version", ""))
    except ValueError:
        expected = None
    try:
        update_thread(thread, current_user, expected_version=expected, changes=changes)
    except StaleEdit:
        db.session.expire_all()
        thread = thread_or_refuse(thread_id)
        error = _(
            "Someone else changed this conversation while you were looking at it. "
            "The current values are shown; make your change again if it still applies."
        )
        return _header_response(thread, 409, error)
    except InvalidInput as exc:
        db.session.rollback()
        return _header_response(thread, 422, "; ".join(exc.fields.values()))
    except NotTheVisitsToChange as exc:
        db.session.rollback()
        return _header_response(thread, 403, str(exc))
    commit()
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    response = render_template("threads/_header.html", **_header_context(thread))
    timeline_html = render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
    return response + timeline_html


def _header_response(thread, status: int, error: str):
    if not request.htmx:
        return _page(thread, status, header_error=error)
    return render_template("threads/_header.html", **_header_context(thread, error=error)), status


def composer_error(thread, form, errors, status: int = 422):
    if not request.htmx:
        return _page(thread, status, form=form, errors=errors, channel_id=form.get("channel_id"))
    context = composer_context(thread, channel_id=form.get("channel_id"), form=form, errors=errors)
    return render_template("threads/_composer.html", **context), status


def _collision(thread, form, collision: ReplyCollision):
    """409: someone else wrote meanwhile; the agent chooses to send anyway or read first.

    htmx gets the warning inside the reply form, which stays as typed (files
    too), and the timeline brought up to date; a plain post gets the page.
    """
    warning = collision_warning(thread, collision)
    if not request.htmx:
        form = {**form, "seen_message_id": warning.latest_message_id}
        return _page(thread, 409, form=form, channel_id=form.get("channel_id"), collision=warning)
    html = render_template("threads/_collision.html", collision=warning)
    timeline_html = render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
    headers = {"HX-Retarget": "#reply-collision", "HX-Reswap": "innerHTML"}
    return html + timeline_html, 409, headers


def _after_post(thread):
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    composer_html = render_template("threads/_composer.html", **composer_context(thread))
    timeline_html = render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
    return composer_html + timeline_html


def uuid_or_404(raw: str):
    try:
        return uuid.UUID(raw)
    except ValueError:
        abort(404)


def header_changed(thread):
    """The answer to a change made from the header: it, and the timeline out of band."""
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    response = render_template("threads/_header.html", **_header_context(thread))
    timeline_html = render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
    return response + timeline_html


def header_out_of_band(thread) -> str:
    """The header, to swap in beside another answer (a logged call changed its status or SLA)."""
    return render_template("threads/_header.html", **_header_context(thread), header_oob=True)


def header_refusal(thread, status: int, error: str):
    """The header with ``error`` for the person to read (a refused header change)."""
    return _header_response(thread, status, error)
