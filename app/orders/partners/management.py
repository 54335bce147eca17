"""What the partner admin pages read and change, apart from keys and configuration.

Every change here is made in the caller's transaction (the route commits),
checked first with errors naming their field (:class:`ConfigInvalid`), and
written to the audit log with the person who made it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.orders.deliveries.log import DeliveryLog, describe_deliveries
from app.orders.partners.config import (
    MAPPING_DIRECTIONS,
    SANDBOX_FIELDS,
    ConfigInvalid,
    apply_integration_config,
    apply_sandbox_config,
)
from app.orders.partners.services import NewPartner, create_partner
from app.platform.audit.records import field_changes, record_change, record_edit, snapshot
from app.platform.extensions import db
from app.platform.models import (
    Article,
    Organization,
    OutboundDelivery,
    PartnerIntegration,
    PartnerSkuMapping,
    User,
)
from app.platform.models.enums import OrganizationType

MAX_COMMISSION_LEVEL = 10
MAX_SKU = 64
MAX_SKU_DESCRIPTION = 255
DELIVERY_PAGE_SIZE = 50


# --- partners and their integration ---------------------------------------------


def find_partner(partner_id: uuid.UUID) -> Organization | None:
    partner = db.session.get(Organization, partner_id)
    if partner is None or partner.organization_type != OrganizationType.PARTNER:
        return None
    return partner


def integration_of(partner: Organization) -> PartnerIntegration:
    """The partner's integration; one is made for a partner that has none (no commit)."""
    integration = db.session.scalar(
        sa.select(PartnerIntegration)
        .where(PartnerIntegration.partner_organization_id == partner.id)
        .order_by(PartnerIntegration.created_at)
        .limit(1)
    )
    if integration is None:
        integration = PartnerIntegration(
            partner_organization_id=partner.id,
            integration_name=f"{partner.name} API"[:120],
            webhook_events=[],
            status_mapping={direction: {} for direction in MAPPING_DIRECTIONS},
        )
        db.session.add(integration)
        db.session.flush()
    return integration


def onboard_partner(name: str, parent_id: str | None, webhook_url: str | None) -> NewPartner:
    """The "new partner" form: :func:`create_partner` with its errors by field (no commit)."""
    errors: dict[str, str] = {}
    parent = None
    if parent_id:
        parent = _partner_by_text_id(parent_id)
        if parent is None:
            errors["parent_organization_id"] = _("not a partner")
    if errors:
        raise ConfigInvalid(errors)
    try:
        return create_partner(
            name or "", webhook_url=(webhook_url or "").strip() or None, parent=parent
        )
    except ValueError as exc:
        field, _sep, message = str(exc).partition(": ")
        raise ConfigInvalid({field or "name": message or str(exc)}) from exc


def update_integration(integration: PartnerIntegration, data: dict, user: User | None) -> None:
    """Apply part of the configuration (a form's section) and audit which keys changed."""
    fields = [key for key in data if hasattr(integration, key)]
    before = snapshot(integration, fields)
    apply_integration_config(integration, data)
    record_edit(
        PartnerIntegration.__tablename__,
        integration.id,
        "INTEGRATION_CONFIG_UPDATED",
        before,
        snapshot(integration, fields),
        user_id=user.id if user else None,
    )


def update_sandbox_callbacks(
    integration: PartnerIntegration, data: dict, user: User | None
) -> None:
    """Apply the sandbox's callback settings (a form's Test (sandbox) section), audited.

    ``data`` names them as a test key does (``webhook_url``, ``webhook_events``,
    ``test_callbacks_to_live_url``); errors name those fields.
    """
    columns = [column for key, (column, _check) in SANDBOX_FIELDS.items() if key in data]
    before = snapshot(integration, columns)
    apply_sandbox_config(integration, data)
    record_edit(
        PartnerIntegration.__tablename__,
        integration.id,
        "SANDBOX_CALLBACKS_UPDATED",
        before,
        snapshot(integration, columns),
        user_id=user.id if user else None,
    )


def mapping_from_rows(
    ours_to_theirs: dict[str, str], theirs_to_ours: list[tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """The status mapping editor's rows as the ``status_mapping`` object.

    Blank rows are dropped; a partner status given twice is refused here,
    because building the object would otherwise keep only the last one.
    """
    outbound = {ours: theirs.strip() for ours, theirs in ours_to_theirs.items() if theirs.strip()}
    inbound: dict[str, str] = {}
    errors = {}
    for theirs, ours in theirs_to_ours:
        theirs = theirs.strip()
        if not theirs and not ours:
            continue
        path = f"status_mapping.partner_to_chargecars.{theirs}"
        if not theirs:
            errors[f"status_mapping.partner_to_chargecars.{ours}"] = _(
                "the partner's status is empty"
            )
        elif theirs in inbound:
            errors[path] = _("%(status)s is mapped twice", status=repr(theirs))
        else:
            inbound[theirs] = ours
    if errors:
        raise ConfigInvalid(errors)
    return {"chargecars_to_partner": outbound, "partner_to_chargecars": inbound}


# --- the channel hierarchy -----------------------------------------------------


def possible_parents(partner: Organization) -> list[Organization]:
    """Partners that may become ``partner``'s parent: neither itself nor below it."""
    below = _descendants(partner.id)
    return [
        org
        for org in db.session.scalars(
            sa.select(Organization)
            .where(Organization.organization_type == OrganizationType.PARTNER)
            .order_by(sa.func.lower(Organization.name))
        )
        if org.id != partner.id and org.id not in below
    ]


def set_parent(partner: Organization, parent_id: str | None, user: User | None) -> None:
    """Place ``partner`` under another partner (or at the top); refuses cycles (no commit)."""
    parent = None
    if parent_id:
        parent = _partner_by_text_id(parent_id)
        if parent is None:
            raise ConfigInvalid({"parent_organization_id": _("not a partner")})
        if parent.id == partner.id:
            raise ConfigInvalid({"parent_organization_id": _("a partner cannot be its own parent")})
        if parent.id in _descendants(partner.id):
            raise ConfigInvalid(
                {
                    "parent_organization_id": (
                        _(
                            "%(parent)s is below %(partner)s in the channel; "
                            "making it the parent would create a cycle",
                            parent=parent.name,
                            partner=partner.name,
                        )
                    )
                }
            )
    previous = partner.parent
    if partner.parent_organization_id == (parent.id if parent else None):
        return
    partner.parent = parent
    _audit(
        Organization.__tablename__,
        partner.id,
        "PARTNER_PARENT_CHANGED",
        user,
        {
            "parent": {
                "from": previous.name if previous else None,
                "to": parent.name if parent else None,
            }
        },
    )


def _descendants(partner_id: uuid.UUID) -> set[uuid.UUID]:
    """Every partner below ``partner_id``, read in one query (partners are few)."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for org_id, parent_id in db.session.execute(
        sa.select(Organization.id, Organization.parent_organization_id).where(
            Organization.parent_organization_id.is_not(None)
        )
    ):
        children.setdefault(parent_id, []).append(org_id)
    found: set[uuid.UUID] = set()
    stack = [partner_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _partner_by_text_id(value: str) -> Organization | None:
    try:
        return find_partner(uuid.UUID(str(value)))
    except ValueError:
        return None


# --- commission rates ----------------------------------------------------------


def set_commission_rates(
    partner: Organization, rows: list[tuple[str, str]], user: User | None
) -> None:
    """Set the percentage per channel level from (level, percentage) rows (no commit).

    A row with an empty percentage removes that level. Percentages are 0–100
    with at most two decimals, as the commission records store them.
    """
    rates: dict[str, float] = {}
    errors: dict[str, str] = {}
    for number, (level_text, percent_text) in enumerate(rows, start=1):
        level_text, percent_text = level_text.strip(), percent_text.strip()
        if not level_text and not percent_text:
            continue
        if not level_text.isdigit() or not 1 <= int(level_text) <= MAX_COMMISSION_LEVEL:
            errors[f"commission_rates.row{number}.level"] = _(
                "a level from 1 to %(max)s", max=MAX_COMMISSION_LEVEL
            )
            continue
        path = f"commission_rates.{int(level_text)}"
        if str(int(level_text)) in rates:
            errors[path] = _("this level is given twice")
            continue
        if not percent_text:
            continue
        try:
            percent = Decimal(percent_text.replace(",", "."))
        except InvalidOperation:
            percent = None
        if (
            percent is None
            or not percent.is_finite()
            or not Decimal("0") <= percent <= Decimal("100")
            or percent != percent.quantize(Decimal("0.01"))
        ):
            errors[path] = _("a percentage from 0 to 100, at most two decimals")
            continue
        rates[str(int(level_text))] = float(percent)
    if errors:
        raise ConfigInvalid(errors)
    ordered = dict(sorted(rates.items(), key=lambda item: int(item[0])))
    if ordered != (partner.commission_rates or {}):
        _audit(
            Organization.__tablename__,
            partner.id,
            "COMMISSION_RATES_CHANGED",
            user,
            {"commission_rates": {"from": partner.commission_rates or {}, "to": ordered}},
        )
        partner.commission_rates = ordered


# --- SKU mappings --------------------------------------------------------------


def sku_mappings(partner: Organization) -> list[PartnerSkuMapping]:
    return list(
        db.session.scalars(
            sa.select(PartnerSkuMapping)
            .where(PartnerSkuMapping.partner_organization_id == partner.id)
            .options(so.joinedload(PartnerSkuMapping.article))
            .order_by(sa.func.upper(PartnerSkuMapping.partner_sku))
        )
    )


def find_sku_mapping(partner: Organization, mapping_id: uuid.UUID) -> PartnerSkuMapping | None:
    mapping = db.session.get(PartnerSkuMapping, mapping_id)
    if mapping is None or mapping.partner_organization_id != partner.id:
        return None
    return mapping


def articles() -> list[Article]:
    return list(db.session.scalars(sa.select(Article).order_by(Article.sku)))


def save_sku_mapping(
    partner: Organization,
    mapping: PartnerSkuMapping | None,
    *,
    partner_sku: str,
    article_id: str,
    description: str,
    user: User | None,
) -> PartnerSkuMapping:
    """Add a mapping (``mapping`` None) or change one (no commit)."""
    errors: dict[str, str] = {}
    partner_sku = (partner_sku or "").strip()
    if not partner_sku:
        errors["partner_sku"] = _("required")
    elif len(partner_sku) > MAX_SKU:
        errors["partner_sku"] = _("at most %(count)s characters", count=MAX_SKU)
    else:
        # Intake matches SKUs without regard to case, so neither may the table.
        query = sa.select(PartnerSkuMapping.id).where(
            PartnerSkuMapping.partner_organization_id == partner.id,
            sa.func.upper(PartnerSkuMapping.partner_sku) == partner_sku.upper(),
        )
        if mapping is not None:
            query = query.where(PartnerSkuMapping.id != mapping.id)
        clash = db.session.scalar(query.limit(1))
        if clash is not None:
            errors["partner_sku"] = _(
                "%(sku)s is already mapped for this partner", sku=repr(partner_sku)
            )
    article = None
    try:
        article = db.session.get(Article, uuid.UUID(article_id or ""))
    except ValueError:
        pass
    if article is None:
        errors["article_id"] = _("choose an article")
    description = (description or "").strip() or None
    if description and len(description) > MAX_SKU_DESCRIPTION:
        errors["description"] = _("at most %(count)s characters", count=MAX_SKU_DESCRIPTION)
    if errors:
        raise ConfigInvalid(errors)

    action = "SKU_MAPPING_CHANGED" if mapping else "SKU_MAPPING_ADDED"
    before = _sku_audited(mapping) if mapping else {}
    if mapping is None:
        mapping = PartnerSkuMapping(partner_organization_id=partner.id)
        db.session.add(mapping)
    mapping.partner_sku = partner_sku
    mapping.article = article
    mapping.article_id = article.id
    mapping.description = description
    db.session.flush()
    _audit(
        PartnerSkuMapping.__tablename__,
        mapping.id,
        action,
        user,
        field_changes(before, _sku_audited(mapping)),
    )
    return mapping


def delete_sku_mapping(mapping: PartnerSkuMapping, user: User | None) -> None:
    _audit(
        PartnerSkuMapping.__tablename__,
        mapping.id,
        "SKU_MAPPING_DELETED",
        user,
        field_changes(_sku_audited(mapping), {}),
    )
    db.session.delete(mapping)


def _sku_audited(mapping: PartnerSkuMapping) -> dict:
    article = db.session.get(Article, mapping.article_id) if mapping.article_id else None
    return {
        "partner_sku": mapping.partner_sku,
        "article_sku": article.sku if article else None,
        "description": mapping.description,
    }


# --- the delivery log ----------------------------------------------------------


def delivery_log(integration: PartnerIntegration, before: str | None = None) -> DeliveryLog:
    """The integration's deliveries, newest first, with every attempt; keyset pages."""
    query = (
        sa.select(OutboundDelivery)
        .where(OutboundDelivery.partner_integration_id == integration.id)
        .options(so.selectinload(OutboundDelivery.attempts))
        .order_by(OutboundDelivery.created_at.desc(), OutboundDelivery.id.desc())
        .limit(DELIVERY_PAGE_SIZE + 1)
    )
    anchor = _delivery_by_text_id(before) if before else None
    if anchor is not None:
        query = query.where(
            sa.tuple_(OutboundDelivery.created_at, OutboundDelivery.id)
            < sa.tuple_(anchor.created_at, anchor.id)
        )
    rows = list(db.session.scalars(query))
    page = rows[:DELIVERY_PAGE_SIZE]
    next_before = str(page[-1].id) if len(rows) > DELIVERY_PAGE_SIZE else None
    return describe_deliveries(page, next_before)


def find_delivery(delivery_id: uuid.UUID) -> OutboundDelivery | None:
    return db.session.get(OutboundDelivery, delivery_id)


def _delivery_by_text_id(value: str) -> OutboundDelivery | None:
    try:
        return db.session.get(OutboundDelivery, uuid.UUID(value))
    except ValueError:
        return None


# --- helpers -------------------------------------------------------------------


def _audit(table: str, record_id, action: str, user: User | None, changes: dict) -> None:
    record_change(table, record_id, action, changes, user_id=user.id if user else None)
