"""Messages a visit sends its customer once per visit day, such as "on my way".

A technician may tap "On the way" twice, the phone's offline queue may replay
the tap, a quick reply or the JSON API may send the same template, and two
workers may apply two held taps at once. Whoever first inserts the
(order, visit day, kind) row of :class:`~app.platform.models.VisitCustomerNotice` composes
the message, in that same transaction; everyone else finds the row taken and
sends nothing. The insert is ``ON CONFLICT DO NOTHING`` on the unique key, so
the database decides, never a look first: on PostgreSQL a second insert waits
for the first transaction and then does nothing (or claims the row, should the
first roll back).

Every claim locks the order row before it inserts, as the phone's taps do
(they lock the order first to apply one tap at a time), so a claim and a tap
take their locks in one order. Before, a claim from the JSON API inserted first:
it held its new row while its foreign-key check waited for a tap's order lock
(FOR UPDATE then, :data:`~app.platform.models.orders.LOCK_TO_CHANGE` now), and the tap's
own insert waited for that row: a deadlock, answered 503 (seen under load in
tests/orders/test_mobile_on_the_way_once.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.conversations.order_hooks import AlreadyTold
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationTemplate, Order, VisitCustomerNotice
from app.platform.models.orders import LOCK_TO_CHANGE

ON_THE_WAY = "on_the_way"
# The template the "On the way" tap sends, by template name or WhatsApp name.
ON_THE_WAY_TEMPLATE = "technician_on_the_way"
# Templates that tell the customer the technician is on the way: the tap's, and
# the phone's "Ik ben onderweg" quick reply with its arrival time. One of them
# per visit day.
ON_THE_WAY_TEMPLATES = frozenset({ON_THE_WAY_TEMPLATE, "technician_eta"})
# Visit days are the technicians' calendar days.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def visit_day_today() -> date:
    return utcnow().astimezone(AMSTERDAM).date()


def claim_visit_notice(order_id: uuid.UUID, day: date, kind: str) -> uuid.UUID | None:
    """Claim the (order, day, kind) message in the caller's transaction (no commit).

    Returns the claim's id when this caller is the one to send it, None when it
    was claimed before. Attach the message with :func:`record_notice_message`.
    """
    # The order first, as every writer of a visit locks it (see the module's docstring).
    db.session.execute(
        sa.select(Order.id).where(Order.id == order_id).with_for_update(**LOCK_TO_CHANGE)
    )
    now = utcnow()
    return db.session.scalar(
        upsert_insert(VisitCustomerNotice, db.session.get_bind().dialect.name)
        .values(
            id=uuid.uuid4(),
            order_id=order_id,
            visit_day=day,
            kind=kind,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_id", "visit_day", "kind"])
        .returning(VisitCustomerNotice.id)
    )


def already_told(order_id: uuid.UUID, day: date, kind: str = ON_THE_WAY) -> bool:
    """Whether the (order, day, kind) message was claimed: for what a page offers only;
    sending goes through :func:`claim_visit_notice`, which decides."""
    return (
        db.session.scalar(
            sa.select(VisitCustomerNotice.id).where(
                VisitCustomerNotice.order_id == order_id,
                VisitCustomerNotice.visit_day == day,
                VisitCustomerNotice.kind == kind,
            )
        )
        is not None
    )


def record_notice_message(notice_id: uuid.UUID, message_id: uuid.UUID) -> None:
    """Note which message told the customer (Undo of that message frees the claim)."""
    db.session.execute(
        sa.update(VisitCustomerNotice)
        .where(VisitCustomerNotice.id == notice_id)
        .values(message_id=message_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def release_notice_of(message_id: uuid.UUID) -> None:
    """Free the claim a held message made, when the message is taken back (no commit).

    The foreign key cascades on PostgreSQL; this says so for every database.
    """
    db.session.execute(
        sa.delete(VisitCustomerNotice)
        .where(VisitCustomerNotice.message_id == message_id)
        .execution_options(synchronize_session=False)
    )


def is_on_the_way_template(template: CommunicationTemplate | None) -> bool:
    return template is not None and bool(
        ON_THE_WAY_TEMPLATES & {template.template_name, template.whatsapp_template_name}
    )


def claim_for_template(
    order_id: uuid.UUID | None, template_id: object, day: date | None = None
) -> uuid.UUID | None:
    """Claim the visit message a template sends, if it is one (no commit).

    For any sender and path (a quick reply, the JSON API): a template that is a
    once-per-visit message on an order's conversation is claimed before the
    reply is composed. Returns the claim's id, None for any other template;
    raises :class:`AlreadyTold` when the customer had it today.
    """
    if order_id is None or not template_id:
        return None
    try:
        template = db.session.get(CommunicationTemplate, uuid.UUID(str(template_id)))
    except ValueError:
        return None  # compose_reply names the bad template_id
    if not is_on_the_way_template(template):
        return None
    notice_id = claim_visit_notice(order_id, day or visit_day_today(), ON_THE_WAY)
    if notice_id is None:
        raise AlreadyTold(ON_THE_WAY)
    return notice_id
