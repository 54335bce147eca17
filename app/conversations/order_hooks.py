"""What the conversation's pages ask of the order context, by name.

The order context stands on this one (it talks to customers through it), so the
inbox and the workspace cannot import it. They show orders all the same: the
inbox's search finds them, a conversation's customer panel lists them with their
invoices (and loads its order's best slots to plan), a technician's "on my way"
reply moves their visit along. Each function here calls what the order context
offers under its name (``Feature.offers`` in ``app.platform.features``); the order
context's ``FEATURE`` fills every name.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from app.platform.features import offered

if TYPE_CHECKING:
    from app.platform.models import CommunicationTemplate, Order, OrderInvoice, User


class AlreadyTold(Exception):
    """The customer had this visit message today already; nothing was written."""


def order_named(text: str) -> Order | None:
    """The live order whose number ``text`` is, however typed (the search jumps to it)."""
    return offered("orders.order_named")(text)


def orders_matching(text: str) -> int:
    """How many live orders the desk's search finds for ``text``."""
    return offered("orders.count_matching")(text)


def may_view_orders(user: User) -> bool:
    """Whether ``user`` may read orders (the order page's rule)."""
    return offered("orders.may_view_orders")(user)


def may_change_status(user: User, order: Order) -> bool:
    """Whether ``user`` may move ``order`` along (a technician: only their visits)."""
    return offered("orders.may_change_status")(user, order)


def is_on_the_way_template(template: CommunicationTemplate | None) -> bool:
    """Whether ``template`` tells a visit's customer the technician is on the way."""
    return offered("orders.is_on_the_way_template")(template)


def claim_for_template(order_id: uuid.UUID | None, template_id: object) -> uuid.UUID | None:
    """Claim today's visit notice a template send stands for; raises :class:`AlreadyTold`."""
    return offered("orders.claim_visit_notice")(order_id, template_id)


def record_notice_message(notice_id: uuid.UUID, message_id: uuid.UUID) -> None:
    """Note which message told the customer (Undo of that message frees the claim)."""
    offered("orders.record_notice_message")(notice_id, message_id)


def customer_link_url(order: Order) -> str:
    """The full address of the customer's personal link to ``order``'s page (issued
    if it has none), for a message about the order."""
    return offered("orders.customer_link_url")(order)


def invoices_of(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, OrderInvoice]:
    """The invoices of several orders, by order id."""
    return offered("orders.invoices_of")(order_ids)


def slots_url(order_id: uuid.UUID, viewer: User, thread_id: uuid.UUID) -> str | None:
    """Where the panel of conversation ``thread_id`` loads its order's best slots from,
    or None when ``viewer`` may not plan it or it cannot be planned."""
    return offered("orders.slots_url")(order_id, viewer, thread_id)
