"""What the review pages show: the queue, one draft with its fields, the partners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.email_intake import labels as f
from app.orders.email_intake.drafts import field_of_error
from app.platform.extensions import db
from app.platform.models import Order, OrderDraft, Organization, PartnerIntegration, User
from app.platform.models.enums import DraftState, OrganizationType

QUEUE_LIMIT = 200
# Blank product rows offered under the found ones, for what the parser missed.
SPARE_LINES = 2
# Input types per field, so phones get a phone keyboard on a phone.
INPUT_TYPES = {f.EMAIL: "email", f.PHONE: "tel", f.PREFERRED_DATE: "date"}


@dataclass
class QueueRow:
    draft: OrderDraft
    partner_name: str
    order_number: str | None


@dataclass
class FieldRow:
    path: str
    label: str
    value: Any
    confidence: int | None
    source: str | None
    note: str | None
    error: str | None
    input_type: str
    required: bool


@dataclass
class DraftPage:
    draft: OrderDraft
    partner_name: str
    fields: list[FieldRow]
    line_items: list[dict]
    line_items_field: FieldRow
    general_errors: list[str]
    order: Order | None
    reviewer: User | None

    @property
    def pending(self) -> bool:
        return self.draft.state == DraftState.PENDING_REVIEW


def confidence_band(value: Any) -> str:
    """ok (≥ 90, created without review), soon (70–89) or overdue (< 70): the pill colours."""
    number = float(value or 0)
    return "ok" if number >= 90 else "soon" if number >= 70 else "overdue"


def review_queue(limit: int = QUEUE_LIMIT) -> list[QueueRow]:
    """Drafts waiting for a person first (oldest first: they wait longest), then the rest."""
    waiting = OrderDraft.state == DraftState.PENDING_REVIEW
    waiting_first = sa.case((waiting, 0), else_=1)
    oldest_waiting_first = sa.case((waiting, OrderDraft.created_at), else_=None)
    rows = db.session.execute(
        sa.select(OrderDraft, Organization.name, Order.order_number)
        .outerjoin(Organization, Organization.id == OrderDraft.partner_organization_id)
        .outerjoin(Order, Order.id == OrderDraft.order_id)
        .order_by(waiting_first, oldest_waiting_first, OrderDraft.created_at.desc())
        .limit(limit)
    )
    return [QueueRow(draft, name or "(partner removed)", number) for draft, name, number in rows]


def state_counts() -> dict[str, int]:
    counts = dict(
        db.session.execute(
            sa.select(OrderDraft.state, sa.func.count(OrderDraft.id)).group_by(OrderDraft.state)
        ).all()
    )
    return {state.value: counts.get(state, 0) for state in DraftState}


def find_partner(partner_id: uuid.UUID) -> Organization | None:
    """The partner ``partner_id``; None when there is none (or it is no partner)."""
    partner = db.session.get(Organization, partner_id)
    if partner is None or partner.organization_type != OrganizationType.PARTNER:
        return None
    return partner


def upload_partners() -> list[Organization]:
    """Partners an uploaded mail can be for: those with an integration, by name."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .join(PartnerIntegration, PartnerIntegration.partner_organization_id == Organization.id)
            .where(Organization.organization_type == OrganizationType.PARTNER)
            .distinct()
            .order_by(Organization.name)
        )
    )


def draft_page(draft: OrderDraft) -> DraftPage:
    stored = draft.fields or {}
    rows = [_row(path, stored.get(path) or {}) for path in f.FIELDS]
    items = list((stored.get(f.LINE_ITEMS) or {}).get("value") or [])
    spare = [{"sku": "", "description": "", "quantity": ""} for _ in range(SPARE_LINES)]
    # Errors no field of the form can show (about the whole body, say) go on top.
    general = [
        part
        for part in (draft.error or "").split("; ")
        if part and draft.state == DraftState.PENDING_REVIEW
        if field_of_error(part.partition(": ")[0]) is None
    ]
    partner = (
        db.session.get(Organization, draft.partner_organization_id)
        if draft.partner_organization_id
        else None
    )
    return DraftPage(
        draft=draft,
        partner_name=partner.name if partner else _("(partner removed)"),
        fields=[row for row in rows if row.path != f.LINE_ITEMS],
        line_items=items + (spare if draft.state == DraftState.PENDING_REVIEW else []),
        line_items_field=next(row for row in rows if row.path == f.LINE_ITEMS),
        general_errors=general,
        order=db.session.get(Order, draft.order_id) if draft.order_id else None,
        reviewer=(
            db.session.get(User, draft.reviewed_by_user_id) if draft.reviewed_by_user_id else None
        ),
    )


def _row(path: str, entry: dict) -> FieldRow:
    found = bool(entry) and entry.get("source") != "missing"
    return FieldRow(
        path=path,
        label=f.FIELDS[path],
        value=entry.get("value"),
        confidence=entry.get("confidence") if found else None,
        source=entry.get("source") if found else None,
        note=entry.get("note"),
        error=entry.get("error"),
        input_type=INPUT_TYPES.get(path, "text"),
        required=path in f.REQUIRED,
    )
