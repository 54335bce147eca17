"""A person's orders after erasure: the books keep the figures, not the person.

Kept: number, status and its history, amounts, lines, VAT-relevant country and
city, dates, partner and partner references, commissions, payments' amounts
and references. Gone: the installation address (street, number, postal code,
coordinates, what was typed), preferences and notes, the customer details the
partner sent with the order, and any e-mail address or
phone number in the review reasons; the form they filled in, their feedback
comment, the partner mail the order was read from, the signature for the visit,
the customer's personal links to their orders' pages (they open nothing after),
and the photos they sent from those pages (rows now, files once the erasure commits).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.conversations.attachments.storage import discard_message_files
from app.conversations.contacts.mentions import Mentions, redact_any_contact_details
from app.conversations.gdpr.footprint import Footprint
from app.conversations.gdpr.rows import Redactor, constant, rewrite
from app.platform.extensions import db
from app.platform.models import (
    Address,
    CustomerFeedback,
    CustomerLink,
    CustomerPhoto,
    FormSubmission,
    LineItem,
    Order,
    OrderDraft,
    OrderStatusTransition,
    Payment,
    PaymentRefund,
    VisitSignature,
)
from app.platform.transactions import after_commit


def erase_order_details(footprint: Footprint) -> dict[str, int]:
    """Take the person out of their orders and what came with them (no commit)."""
    mentions = footprint.mentions
    counts = {"addresses": _erase_addresses(footprint.addresses)}
    if not footprint.order_ids:
        return counts
    within = footprint.order_ids

    def reasons(values):
        return [redact_any_contact_details(mentions.redact_text(str(v))) for v in values or []]

    counts["orders"] = rewrite(
        _all(Order, Order.id.in_(within)),
        {
            "installation_preferences": constant({}),
            "notes": constant(None),
            # What the partner sent: their name, e-mail and phone.
            "customer_as_sent": constant(None),
            # Digests of what the partner sent; salted, but derived from the person.
            "partner_payload_digest": constant(None),
            "review_reasons": reasons,
            "partner_external_references": mentions.redact_strings,
        },
    )
    counts["order_lines"] = rewrite(
        _all(LineItem, LineItem.order_id.in_(within)),
        {"description": mentions.redact_text, "note": mentions.redact_text},
    )
    counts["order_history"] = rewrite(
        _all(OrderStatusTransition, OrderStatusTransition.order_id.in_(within)),
        {
            "transition_reason": mentions.redact_text,
            "partner_note": mentions.redact_text,
            "business_context": mentions.redact_strings,
        },
    )
    counts["payments"] = rewrite(
        _all(Payment, Payment.order_id.in_(within)), {"raw": mentions.redact_records}
    )
    # A provider's refund object may name the customer (Stripe's receipt e-mail).
    refunded = sa.select(Payment.id).where(Payment.order_id.in_(within))
    counts["refunds"] = rewrite(
        _all(PaymentRefund, PaymentRefund.payment_id.in_(refunded)),
        {"raw": mentions.redact_records},
    )
    counts["form_submissions"] = rewrite(
        _all(
            FormSubmission,
            sa.or_(
                FormSubmission.order_id.in_(within),
                FormSubmission.contact_id == footprint.contact.id,
            ),
        ),
        {"raw_data": constant({})},
    )
    counts["feedback"] = rewrite(
        _all(
            CustomerFeedback,
            sa.or_(
                CustomerFeedback.order_id.in_(within),
                CustomerFeedback.contact_id == footprint.contact.id,
            ),
        ),
        {"comment": constant(None), "raw": constant({})},
    )
    counts["order_drafts"] = rewrite(
        _all(OrderDraft, OrderDraft.order_id.in_(within)), _ORDER_DRAFT_ERASED
    )
    # The signature's image went with its note (the conversation's erasure); the
    # name of whoever signed goes with it.
    counts["visit_signatures"] = db.session.execute(
        sa.delete(VisitSignature).where(VisitSignature.order_id.in_(within))
    ).rowcount
    # The link names the order; gone, its token finds nothing (the page says no more).
    counts["customer_links"] = db.session.execute(
        sa.delete(CustomerLink).where(CustomerLink.order_id.in_(within))
    ).rowcount
    # Photos of their home: the files go once the erasure is committed, not before.
    photo_ids = db.session.scalars(
        sa.delete(CustomerPhoto)
        .where(CustomerPhoto.order_id.in_(within))
        .returning(CustomerPhoto.id)
    ).all()
    for photo_id in photo_ids:
        after_commit(lambda photo_id=photo_id: discard_message_files(photo_id))
    counts["customer_photos"] = len(photo_ids)
    return counts


# A parsed partner mail keeps its state and confidence (the intake's figures).
_ORDER_DRAFT_ERASED: dict[str, Redactor] = {
    "raw_text": constant(""),
    "sender": constant(None),
    "subject": constant(None),
    "fields": constant({}),
    "error": constant(None),
}


def redact_order_drafts(mentions: Mentions) -> int:
    """Partner mails parsed into drafts that mention the person but made no order of theirs."""
    if not mentions.searchable:
        return 0
    draft = OrderDraft
    candidates = _all(
        draft, mentions.clause(draft.raw_text, draft.sender, draft.subject, draft.fields)
    )
    return rewrite(
        [d for d in candidates if mentions.found_in([d.raw_text, d.sender, d.subject, d.fields])],
        {
            "raw_text": lambda v: mentions.redact_text(v) or "",
            "sender": mentions.redact_text,
            "subject": mentions.redact_text,
            "fields": mentions.redact_records,
        },
    )


def _erase_addresses(addresses: list[Address]) -> int:
    # City, province and country stay: they say where work was done, not who lives there.
    return rewrite(
        addresses,
        {
            "street": constant(None),
            "house_number": constant(None),
            "house_number_addition": constant(None),
            "postal_code": constant(None),
            "bag_id": constant(None),
            "latitude": constant(None),
            "longitude": constant(None),
            "validation_message": constant(None),
            "raw_input": constant({}),
        },
    )


def _all(model, condition) -> list:
    return list(db.session.scalars(sa.select(model).where(condition)))
