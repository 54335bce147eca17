"""The order's conversation on the technician's phone: read it, add a note, reply in one tap.

Its routes are the phone's blueprint's (``mobile.reply``, ``mobile.conversation`` …),
kept apart from the visit card's taps in :mod:`app.orders.mobile.web.routes`. A post
made on the conversation page is answered there, any other on the visit's card.
"""

from __future__ import annotations

import uuid

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.workspace.services import InvalidInput, add_note
from app.conversations.workspace.technician_replies import TechnicianMayNotWrite
from app.orders.mobile.answers import (
    answer_card,
    form_uuid,
    order_for_action,
    order_to_read,
    wants_json,
)
from app.orders.mobile.cards import visit_card
from app.orders.mobile.conversation import conversation_messages, find_order_thread, order_thread
from app.orders.mobile.pending import undo_seconds
from app.orders.mobile.quick_replies import (
    eta_text,
    seconds_behind_held,
    send_quick_reply,
    withdraw_quick_reply,
)
from app.orders.mobile.replay import is_offline_replay, replayable
from app.orders.mobile.services import local_today
from app.orders.mobile.web.blueprint import PHONE_ROLES, bp
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.transactions import commit


@bp.post("/visits/<uuid:order_id>/reply")
@role_required(*PHONE_ROLES)
@replayable
def reply(order_id: uuid.UUID):
    order = order_for_action(order_id)
    form = request.form
    # A post kept offline was made a while ago and is replayed in order: it goes at
    # once, unless an earlier reply still waits out its Undo; then just after it,
    # so the customer reads them in the order they were written.
    seconds = seconds_behind_held(order) if is_offline_replay() else undo_seconds()
    try:
        eta = (
            eta_text(form.get("eta_minutes"), form.get("eta_time"))
            if form.get("eta_minutes") or form.get("eta_time")
            else None
        )
        message = send_quick_reply(
            order,
            current_user,
            form.get("template_id"),
            local_today(),
            eta=eta,
            hold_seconds=seconds,
        )
    except InvalidInput as exc:
        db.session.rollback()
        return _back(order, error=_("Not sent: %(problem)s", problem=" ".join(exc.fields.values())))
    except TechnicianMayNotWrite as exc:
        db.session.rollback()
        return _back(order, error=_("Not sent: %(problem)s", problem=str(exc)), code=403)
    commit()
    if seconds > 0 and message.is_held:
        return _back(order)  # the card shows "Sending in 8 s · Undo"
    return _back(
        order, notice=_("%(order)s: message sent to the customer.", order=order.order_number)
    )


@bp.post("/visits/<uuid:order_id>/reply/undo")
@role_required(*PHONE_ROLES)
@replayable
def undo_reply(order_id: uuid.UUID):
    """Take back a quick reply inside its undo window: it never leaves."""
    order = order_to_read(order_id)
    message_id = form_uuid("message_id")
    if withdraw_quick_reply(order, current_user, message_id) is None:
        db.session.rollback()
        return _back(order, error=_("Too late to undo: the message has been sent."), code=409)
    commit()
    return _back(order, notice=_("Undone: the message was not sent."))


_CONVERSATION_ANSWER = "mobile_conversation_answer"


def _back(order: Order, **answer):
    """Answer a post made on the conversation page there, any other on the card."""
    if request.form.get("from") != "conversation":
        return answer_card(order, **answer)
    code = answer.pop("code", None) or (422 if answer.get("error") else 200)
    if request.htmx or wants_json():
        if wants_json():
            return answer_card(order, code=code, **answer)
        return _conversation_page(order, partial=True, **answer), code
    # Without JavaScript the answer survives the redirect in the session and is
    # shown in the page's own notice slot, the same place the htmx answer goes.
    session[_CONVERSATION_ANSWER] = {
        key: answer[key] for key in ("notice", "error") if answer.get(key)
    }
    return redirect(url_for("mobile.conversation", order_id=order.id), 303)


@bp.get("/visits/<uuid:order_id>/conversation")
@role_required(*PHONE_ROLES)
def conversation(order_id: uuid.UUID):
    """The order's conversation on the phone: read it, add a note, reply in one tap."""
    answer = session.pop(_CONVERSATION_ANSWER, None) or {}
    return _conversation_page(order_to_read(order_id), **answer)


def _conversation_page(
    order: Order, *, partial: bool = False, notice: str | None = None, error: str | None = None
):
    thread = find_order_thread(order)
    context = {
        "visit": visit_card(order, current_user, local_today()),
        "thread": thread,
        "messages": conversation_messages(thread) if thread else [],
        "notice": notice,
        "error": error,
    }
    template = "mobile/_conversation.html" if partial else "mobile/conversation.html"
    return render_template(template, **context)


@bp.post("/visits/<uuid:order_id>/note")
@role_required(*PHONE_ROLES)
@replayable
def note(order_id: uuid.UUID):
    """An internal note on the order's conversation (colleagues see it; never sent)."""
    order = order_for_action(order_id)
    try:
        add_note(order_thread(order), current_user, request.form.get("content"))
    except InvalidInput as exc:
        db.session.rollback()
        return _back(order, error=" ".join(exc.fields.values()))
    commit()
    return _back(order, notice=_("%(order)s: note added.", order=order.order_number))
