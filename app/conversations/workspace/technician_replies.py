"""What a technician may send a customer: the visit messages made for them.

A technician writes to customers from the phone with one-tap visit messages
("on my way", the quick replies of category ``installation_scheduling``), to the
customer of a visit they are on (as its lead or on its crew), in the
conversation with that customer. Free text, a subject of their own, an e-mail
to addressees of their choosing, WhatsApp text, a message to the partner who
placed the order or about someone else's visit is desk work: an agent's
judgement, an agent's signature. What a technician sends goes to the customer's
own address only and carries the mailbox's signature, not a personal one. The
rule sits in :func:`app.conversations.workspace.services.compose_reply`, the one path every reply
takes (the reply form, the JSON API, the phone), so a new way to send cannot skip it.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from app.conversations.order_hooks import is_on_the_way_template, may_change_status
from app.platform.extensions import db
from app.platform.models import CommunicationTemplate, CommunicationThread, Order, User
from app.platform.models.enums import Role, TemplateCategory

# The quick replies' category (app.orders.mobile.quick_replies) and the "on my way" notices.
VISIT_MESSAGE_CATEGORY = TemplateCategory.INSTALLATION_SCHEDULING
# A technician fills in one thing: the expected arrival, a clock time or minutes.
TECHNICIAN_VARIABLES = frozenset({"eta"})
_ETA = re.compile(r"^(\d{1,3}|([01]?\d|2[0-3]):[0-5]\d)$")


class TechnicianMayNotWrite(Exception):
    """A technician tried to send more than a visit message; nothing was written."""

    code = "technician_free_text_not_allowed"


def check_technician_reply(
    thread: CommunicationThread,
    author: User,
    *,
    template: CommunicationTemplate | None,
    content: str | None,
    variables: dict | None,
    addressees_given: bool,
    subject_given: bool,
    has_uploads: bool,
    system_composed: bool,
) -> None:
    """Raise :class:`TechnicianMayNotWrite` unless ``author`` may send this reply.

    Other roles pass. ``system_composed``: the phone's visit code chose the
    template (or, with none set up, its own "on my way" text) and filled in the
    variables; nothing in it was typed by the technician.
    """
    if author.role != Role.TECHNICIAN:
        return
    if not _own_visit(thread, author):
        raise TechnicianMayNotWrite(
            _("You can only message the customer of a visit you are planned for.")
        )
    if system_composed:
        return
    if template is None or not _made_for_visits(template):
        raise TechnicianMayNotWrite(
            _("Technicians send customers the visit messages only, not their own text.")
        )
    if (content or "").strip() or subject_given or addressees_given or has_uploads:
        raise TechnicianMayNotWrite(
            _("A visit message is sent as it is: no own text, subject, addressees or files.")
        )
    for name, value in (variables or {}).items():
        if name not in TECHNICIAN_VARIABLES or not _ETA.match(str(value).strip()):
            raise TechnicianMayNotWrite(
                _("Only the expected arrival time can be filled in on a visit message.")
            )


def writes_as_technician(author: User) -> bool:
    """Whether ``author``'s replies are visit messages: to the customer's own
    address, with the mailbox's signature only."""
    return author.role == Role.TECHNICIAN


def _own_visit(thread: CommunicationThread, author: User) -> bool:
    """The thread is the conversation with the end customer of an order the
    technician visits; the partner's conversation about the order is not."""
    if thread.order_id is None or thread.contact_id is None:
        return False
    order = db.session.get(Order, thread.order_id)
    return (
        order is not None
        and thread.contact_id == order.end_customer_contact_id
        and may_change_status(author, order)
    )


def _made_for_visits(template: CommunicationTemplate) -> bool:
    return template.template_category == VISIT_MESSAGE_CATEGORY or is_on_the_way_template(template)
