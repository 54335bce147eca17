"""Pages for merging: a conversation into another, a contact with another, and the undo."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.conversations.inbox.access import can_access_thread, can_see_contact
from app.conversations.merges.comparison import contact_side, preview_refusal, same_name, told_apart
from app.conversations.merges.contacts import (
    FILLABLE,
    ContactMergeRefused,
    contact_threads,
    merge_contacts,
    merge_preview,
    moved_counts,
    undo_contact_merge,
    undo_deadline,
    undoable,
)
from app.conversations.merges.conversations import (
    CONFIRMED,
    ConversationMergeRefused,
    conversation_merge_preview,
    find_thread,
    merge_candidates,
    merge_conversation,
)
from app.conversations.merges.lookups import find_contact, find_contact_merge, find_contacts
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, ContactMerge
from app.platform.transactions import commit

bp = Blueprint("merges", __name__)

# A POST without the preview's confirm button (``confirm=yes``) merges nothing.
NOT_CONFIRMED = _l("Nothing was merged: check what moves below, then press “Confirm merge”.")


def _thread(thread_id: uuid.UUID) -> CommunicationThread:
    thread = find_thread(thread_id)
    if thread is None:
        abort(404, _("There is no such conversation."))
    if not can_access_thread(current_user, thread):
        abort(403)
    return thread


def _contact(contact_id: uuid.UUID) -> Contact:
    contact = find_contact(contact_id)
    if contact is None:
        abort(404, _("There is no such contact."))
    if not can_see_contact(current_user, contact):
        abort(403)
    return contact


# --- conversations ------------------------------------------------------------------


def _thread_page(thread, status: int = 200, error: str | None = None):
    query = request.values.get("q", "")
    return (
        render_template(
            "merges/thread.html",
            thread=thread,
            query=query,
            candidates=merge_candidates(thread, current_user, query),
            error=error,
        ),
        status,
    )


@bp.get("/threads/<uuid:thread_id>/merge")
@role_required(*STAFF_DESK_ROLES)
def thread_form(thread_id: uuid.UUID):
    return _thread_page(_thread(thread_id))


def _chosen() -> CommunicationThread | None:
    """The conversation chosen to merge into (``into``), or None when none (valid) was chosen."""
    try:
        into = uuid.UUID(request.values.get("into", ""))
    except ValueError:
        return None
    target = find_thread(into)
    if target is None:
        abort(404, _("There is no such conversation."))
    return target


def _thread_preview(thread, target, status: int = 200, error: str | None = None):
    # A conversation they may not open is not shown, not even as a merge target.
    if not can_access_thread(current_user, target):
        return _thread_page(thread, 403, ConversationMergeRefused("no_access").message)
    return (
        render_template(
            "merges/thread_preview.html",
            preview=conversation_merge_preview(thread, target, current_user),
            confirmed=CONFIRMED,
            error=error,
        ),
        status,
    )


@bp.get("/threads/<uuid:thread_id>/merge/preview")
@role_required(*STAFF_DESK_ROLES)
def thread_preview(thread_id: uuid.UUID):
    """What the merge into the chosen conversation would do, with the button that confirms it."""
    thread = _thread(thread_id)
    target = _chosen()
    if target is None:
        return _thread_page(thread, 422, _("Choose the conversation to merge into."))
    return _thread_preview(thread, target)


@bp.post("/threads/<uuid:thread_id>/merge")
@role_required(*STAFF_DESK_ROLES)
def merge_thread(thread_id: uuid.UUID):
    """Merge this conversation into the chosen one (once confirmed), then show the kept one."""
    thread = _thread(thread_id)
    target = _chosen()
    if target is None:
        return _thread_page(thread, 422, _("Choose the conversation to merge into."))
    if request.form.get("confirm") != CONFIRMED:
        return _thread_preview(thread, target, 422, str(NOT_CONFIRMED))
    try:
        merge_conversation(thread, target.id, current_user)
    except ConversationMergeRefused as refused:
        db.session.rollback()
        status = 403 if refused.reason == "no_access" else 409
        return _thread_page(_thread(thread_id), status, refused.message)
    commit()
    flash(_("The conversations were merged into this one."), "success")
    return redirect(url_for("threads.show", thread_id=target.id), 303)


# --- contacts ---------------------------------------------------------------------------


@bp.get("/contacts/<uuid:contact_id>/merge")
@role_required(*STAFF_DESK_ROLES)
def contact_search(contact_id: uuid.UUID):
    contact = _contact(contact_id)
    query = request.args.get("q", "")
    return render_template(
        "merges/contact_search.html",
        contact=contact,
        query=query,
        results=find_contacts(query, contact, current_user),
        back=_back(),
    )


def _preview_page(kept, merged, status: int = 200, error: str | None = None):
    return (
        render_template(
            "merges/contact_preview.html",
            preview=merge_preview(kept, merged),
            sides=(contact_side(kept, current_user), contact_side(merged, current_user)),
            same_name=same_name(kept.display_name, merged.display_name),
            names=told_apart(kept, merged),
            refusal=preview_refusal(current_user, kept, merged),
            confirmed=CONFIRMED,
            error=error,
            back=_back(),
        ),
        status,
    )


@bp.get("/contacts/<uuid:contact_id>/merge/<uuid:other_id>")
@role_required(*STAFF_DESK_ROLES)
def contact_preview(contact_id: uuid.UUID, other_id: uuid.UUID):
    return _preview_page(_contact(contact_id), _contact(other_id))


@bp.post("/contacts/<uuid:contact_id>/merge/<uuid:other_id>")
@role_required(*STAFF_DESK_ROLES)
def merge_contact(contact_id: uuid.UUID, other_id: uuid.UUID):
    kept, other = _contact(contact_id), _contact(other_id)
    if request.form.get("confirm") != CONFIRMED:
        return _preview_page(kept, other, 422, str(NOT_CONFIRMED))
    try:
        merge = merge_contacts(kept.id, other.id, current_user)
    except ContactMergeRefused as refused:
        db.session.rollback()
        status = 403 if refused.reason == "no_access" else 409
        return _preview_page(_contact(contact_id), _contact(other_id), status, refused.message)
    commit()
    flash(_("The contacts were merged. You can undo this for 24 hours."), "success")
    return redirect(url_for("merges.contact_merge", merge_id=merge.id, back=_back()), 303)


def _merge_record(merge_id: uuid.UUID) -> ContactMerge:
    merge = find_contact_merge(merge_id)
    if merge is None:
        abort(404, _("There is no such merge."))
    _contact(merge.kept_contact_id)
    return merge


def _merge_page(merge: ContactMerge, status: int = 200, error: str | None = None):
    return (
        render_template(
            "merges/contact_merge.html",
            merge=merge,
            counts=moved_counts(merge.moved or {}),
            filled=[
                str(FILLABLE.get(name, name)) for name in (merge.moved or {}).get("filled", [])
            ],
            undoable=undoable(merge),
            undo_until=undo_deadline(merge),
            kept_threads=contact_threads(merge.kept_contact_id),
            merged_threads=contact_threads(merge.merged_contact_id),
            names=told_apart(merge.kept_contact, merge.merged_contact),
            back=_back(),
            error=error,
        ),
        status,
    )


@bp.get("/contact-merges/<uuid:merge_id>")
@role_required(*STAFF_DESK_ROLES)
def contact_merge(merge_id: uuid.UUID):
    """The merge record: what moved, the kept contact's conversations, and Undo for a day."""
    return _merge_page(_merge_record(merge_id))


@bp.post("/contact-merges/<uuid:merge_id>/undo")
@role_required(*STAFF_DESK_ROLES)
def undo_merge(merge_id: uuid.UUID):
    merge = _merge_record(merge_id)
    try:
        undo_contact_merge(merge.id, current_user)
    except ContactMergeRefused as refused:
        db.session.rollback()
        status = 403 if refused.reason == "no_access" else 409
        return _merge_page(_merge_record(merge_id), status, refused.message)
    commit()
    flash(_("The merge was undone: everything moved back."), "success")
    return redirect(url_for("merges.contact_merge", merge_id=merge_id, back=_back()), 303)


def _back() -> uuid.UUID | None:
    """The conversation the person came from (``?back=``), to offer the way back to it."""
    try:
        return uuid.UUID(request.values.get("back", ""))
    except ValueError:
        return None
