"""Order drafts from partner e-mails: stored, then made an order at once or reviewed.

Alva's orders arrive by e-mail, and a person validates any the parser is
less than 90% sure of. A draft keeps the mail's text, what the parser found per field and the
overall confidence. At 90 or more the order is created through the partner
intake, exactly as if Alva had called the API; below, agents and team leads
are told and a person corrects and approves (or rejects) it.

None of these functions commit: the caller ends the transaction with
:func:`app.platform.transactions.commit`, which then sends the notifications and the
partner's confirmation.
"""

from __future__ import annotations

import copy
import logging
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.conversations.notifications.services import announce, create_notification
from app.orders.email_intake import labels as f
from app.orders.email_intake.parser import body_from_values, parse_order_email
from app.orders.email_intake.text import parse_date
from app.orders.partners.intake import IntakeInvalid, create_partner_order
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Article,
    AuditLog,
    CommunicationMessage,
    Order,
    OrderDraft,
    Organization,
    PartnerIntegration,
    PartnerSkuMapping,
    User,
)
from app.platform.models.enums import DraftState, OrderSource, Priority, Role
from app.platform.system_texts import text
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

REVIEWER_ROLES = (Role.AGENT, Role.TEAM_LEAD)
REVIEW_NOTIFICATION = "partner_order_review"
REVIEWED = "reviewer"
MAX_REASON = 2000


class DraftClosed(Exception):
    """The draft was approved or rejected already (perhaps by someone else just now)."""


def draft_from_email(
    partner: Organization,
    *,
    subject: str | None,
    text: str | None,
    html: str | None = None,
    sender: str | None = None,
    internet_message_id: str | None = None,
    message_id: uuid.UUID | str | None = None,
    source: str = "email",
) -> OrderDraft:
    """Parse a partner's order e-mail into a draft, and into an order when certain.

    The same ``internet_message_id`` (the mail's Message-ID) twice returns the
    first draft: a mail seen through Outlook and uploaded as ``.eml`` too, or a
    job run twice, makes one draft and at most one order.
    """
    internet_message_id = (internet_message_id or "").strip()[:500] or None
    if internet_message_id and (existing := draft_for_message(internet_message_id)):
        return existing
    parsed = parse_order_email(
        subject=subject,
        text=text,
        html=html,
        known_skus=partner_skus(partner),
        ignore_addresses=[sender or "", *order_addresses(partner)],
    )
    draft = OrderDraft(
        partner_organization_id=partner.id,
        source=source,
        message_id=uuid.UUID(str(message_id)) if message_id else None,
        internet_message_id=internet_message_id,
        sender=sender[:320] if sender else None,
        subject=(subject or "")[:500] or None,
        raw_text=parsed.text,
        fields={path: found.as_dict() for path, found in parsed.fields.items()},
        confidence=Decimal(parsed.confidence),
        state=DraftState.PENDING_REVIEW,
    )
    try:
        with db.session.begin_nested():
            db.session.add(draft)
    except IntegrityError:
        # Another worker stored the same mail a moment ago.
        existing = draft_for_message(internet_message_id) if internet_message_id else None
        if existing is None:
            raise
        return existing
    if parsed.certain:
        try:
            _create_order(draft, partner, parsed.body, actor=None)
            log.info("order e-mail %s became order %s", draft.id, draft.order_id)
            return draft
        except IntakeInvalid as exc:
            # Confident about what the mail says, but it is not a valid order.
            _record_errors(draft, exc.fields)
    _ask_for_review(draft, partner)
    return draft


def approve_draft(draft: OrderDraft, corrected_fields: dict[str, Any], user: User) -> Order:
    """Create the order from the draft with a reviewer's corrections.

    ``corrected_fields`` maps field paths (``customer.email``…) to values, and
    ``line_items`` to a list of ``{"sku", "description", "quantity"}``. Raises
    :class:`IntakeInvalid` naming the fields still wrong (the corrections are
    kept on the draft, so the reviewer's work is not lost), or
    :class:`DraftClosed`.
    """
    draft = _locked(draft)
    partner = db.session.get(Organization, draft.partner_organization_id)
    if partner is None:
        raise IntakeInvalid({"partner": "the partner of this draft no longer exists"})
    draft.fields = corrected(draft.fields, corrected_fields)
    values = {path: entry.get("value") for path, entry in draft.fields.items()}
    try:
        order = _create_order(draft, partner, body_from_values(values), actor=user)
    except IntakeInvalid as exc:
        _record_errors(draft, exc.fields)
        raise
    _reviewed(draft, user, "draft_approved", {"order_number": order.order_number})
    return order


def reject_draft(draft: OrderDraft, user: User, reason: str) -> OrderDraft:
    """Close the draft without an order. Raises ValueError naming ``reason`` when empty."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError(_("reason: say why the draft is rejected"))
    if len(reason) > MAX_REASON:
        raise ValueError(_("reason: at most %(max)s characters", max=MAX_REASON))
    draft = _locked(draft)
    draft.state = DraftState.REJECTED
    draft.error = reason
    _reviewed(draft, user, "draft_rejected", {"reason": reason})
    return draft


def corrected(fields: dict[str, Any], corrections: dict[str, Any]) -> dict[str, Any]:
    """The draft's fields with a reviewer's values; errors of an earlier try dropped."""
    result = copy.deepcopy(fields or {})
    for entry in result.values():
        entry.pop("error", None)
    for path in f.FIELDS:
        if path not in corrections:
            continue
        value = _clean(path, corrections[path])
        entry = result.get(path) or {"value": None, "confidence": 0, "source": "missing"}
        if _comparable(entry.get("value")) != _comparable(value):
            entry = {"value": value, "confidence": 100, "source": REVIEWED}
        result[path] = entry
    return result


def partner_skus(partner: Organization) -> dict[str, str]:
    """The partner's SKU list: their code → the description to show."""
    rows = db.session.execute(
        sa.select(PartnerSkuMapping.partner_sku, PartnerSkuMapping.description, Article.name)
        .join(Article, Article.id == PartnerSkuMapping.article_id)
        .where(PartnerSkuMapping.partner_organization_id == partner.id)
    )
    return {sku: description or name for sku, description, name in rows}


def order_addresses(partner: Organization) -> list[str]:
    """The mailbox addresses this partner's order e-mails are sent to."""
    return [
        address
        for address in db.session.scalars(
            sa.select(PartnerIntegration.order_email_address).where(
                PartnerIntegration.partner_organization_id == partner.id
            )
        )
        if address
    ]


def _create_order(
    draft: OrderDraft, partner: Organization, body: dict, actor: User | None
) -> Order:
    # A savepoint, so an intake that fails halfway leaves the draft (and the
    # reviewer's corrections) to be committed without a half-made order.
    with db.session.begin_nested():
        result = create_partner_order(partner, body, source=OrderSource.EMAIL, actor=actor)
    draft.order_id = result.order.id
    draft.state = DraftState.CREATED
    _link_thread(draft, result.order)
    draft.error = (
        None
        if result.created
        else f"{result.order.order_number} already existed for {result.order.partner_order_id}"
        + (f"; sent before with other {', '.join(result.differs)}" if result.differs else "")
    )
    return result.order


def _link_thread(draft: OrderDraft, order: Order) -> None:
    """The mail's conversation is now about this order: link it, unless it has one."""
    message = db.session.get(CommunicationMessage, draft.message_id) if draft.message_id else None
    if message is not None and message.thread.order_id is None:
        message.thread.order_id = order.id


def _record_errors(draft: OrderDraft, errors: dict[str, str]) -> None:
    fields = copy.deepcopy(draft.fields or {})
    for path, message in errors.items():
        field = field_of_error(path)
        if field is not None:
            entry = fields.setdefault(field, {"value": None, "confidence": 0, "source": "missing"})
            entry["error"] = message if field == path else f"{path}: {message}"
    draft.fields = fields
    draft.error = "; ".join(f"{path}: {message}" for path, message in errors.items())


def field_of_error(path: str) -> str | None:
    """The draft field an intake error belongs to (``line_items.0.sku`` → line_items)."""
    if path in f.FIELDS:
        return path
    if path.startswith(("line_items", "products")):
        return f.LINE_ITEMS
    if path == "customer.address.house_number_addition":
        return f.HOUSE_NUMBER
    return None


def _ask_for_review(draft: OrderDraft, partner: Organization) -> None:
    reviewers = db.session.scalars(
        sa.select(User).where(User.role.in_(REVIEWER_ROLES), User.is_active_account.is_(True))
    ).all()
    db.session.flush()
    for user in reviewers:
        notification = create_notification(
            user.id,
            REVIEW_NOTIFICATION,
            text("notification.draft_review"),
            text(
                "notification.draft_review_body",
                partner=partner.name,
                subject=draft.subject or text("notification.no_subject"),
                confidence=int(draft.confidence),
            ),
            priority=Priority.HIGH,
            source_table=OrderDraft.__tablename__,
            source_record_id=draft.id,
            # A path, not url_for: this runs in jobs, outside any request.
            link=f"/intake/drafts/{draft.id}",
        )
        after_commit(lambda n=notification: announce(n))


def _locked(draft: OrderDraft) -> OrderDraft:
    """The draft re-read under a row lock; two reviewers cannot both close it."""
    locked = db.session.scalar(
        sa.select(OrderDraft)
        .where(OrderDraft.id == draft.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.state != DraftState.PENDING_REVIEW:
        if locked is None:
            raise DraftClosed(_("This draft is already deleted."))
        if locked.state == DraftState.REJECTED:
            raise DraftClosed(_("This draft is already rejected."))
        raise DraftClosed(_("This draft is already created."))
    return locked


def _reviewed(draft: OrderDraft, user: User, action: str, changes: dict) -> None:
    draft.reviewed_by_user_id = user.id
    draft.reviewed_at = utcnow()
    db.session.add(
        AuditLog(
            table_name=OrderDraft.__tablename__,
            record_id=draft.id,
            action=action,
            changed_by_user_id=user.id,
            changes={"confidence": str(draft.confidence), **changes},
        )
    )


def draft_for_message(internet_message_id: str) -> OrderDraft | None:
    return db.session.scalar(
        sa.select(OrderDraft).where(OrderDraft.internet_message_id == internet_message_id)
    )


def _clean(path: str, value: Any) -> Any:
    if path == f.LINE_ITEMS:
        return [
            {
                "sku": str(item.get("sku") or "").strip(),
                "description": str(item.get("description") or "").strip(),
                "quantity": _quantity(item.get("quantity")),
            }
            for item in value or []
            if any(str(item.get(key) or "").strip() for key in ("sku", "description"))
        ]
    text = " ".join(str(value or "").split()) if path != f.NOTES else str(value or "").strip()
    if path == f.PREFERRED_DATE and text and (day := parse_date(text)):
        return day.isoformat()
    return text or None


def _quantity(value: Any) -> int | str:
    text = str(value or "").strip() or "1"
    # Left as typed when it is not a number: the intake names the field then.
    return int(text) if text.isdigit() else text


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return [
            {k: str(item.get(k) or "") for k in ("sku", "description", "quantity")}
            for item in value
        ]
    return str(value or "")
