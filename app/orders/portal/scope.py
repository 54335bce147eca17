"""What a partner user may see: their organisation and, read-only, the sub-partners below it.

The channel hierarchy (``Organization.parent_organization_id``): a parent
sees its sub-partners' orders (order, status, history), never their keys,
deliveries or settings. Everything the portal reads starts from a
:class:`PortalScope`; an object outside it is "not found".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Organization, PartnerIntegration, User


@dataclass
class PortalScope:
    organization: Organization
    # Sub-partners at any depth below ``organization``, by id.
    sub_partners: dict[uuid.UUID, Organization] = field(default_factory=dict)

    @property
    def order_owner_ids(self) -> set[uuid.UUID]:
        """Organisations whose orders the user may read."""
        return {self.organization.id, *self.sub_partners}

    def is_own(self, organization_id: uuid.UUID | None) -> bool:
        return organization_id == self.organization.id

    def organization_name(self, organization_id: uuid.UUID | None) -> str:
        if organization_id == self.organization.id:
            return self.organization.name
        sub = self.sub_partners.get(organization_id)
        return sub.name if sub else ""


def scope_for(user: User) -> PortalScope | None:
    """The user's scope, or None if they belong to no (existing) organisation."""
    if user.partner_organization_id is None:
        return None
    organization = db.session.get(Organization, user.partner_organization_id)
    if organization is None:
        return None
    ids = descendants(organization.id)
    subs = {}
    if ids:
        subs = {
            org.id: org
            for org in db.session.scalars(sa.select(Organization).where(Organization.id.in_(ids)))
        }
    return PortalScope(organization, subs)


def descendants(organization_id: uuid.UUID) -> set[uuid.UUID]:
    """Every organisation below ``organization_id`` (partners are few: one query)."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for org_id, parent_id in db.session.execute(
        sa.select(Organization.id, Organization.parent_organization_id).where(
            Organization.parent_organization_id.is_not(None)
        )
    ):
        children.setdefault(parent_id, []).append(org_id)
    found: set[uuid.UUID] = set()
    stack = [organization_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and child != organization_id:
                found.add(child)
                stack.append(child)
    return found


def own_integration(scope: PortalScope) -> PartnerIntegration | None:
    """The user's own organisation's integration (never a sub-partner's)."""
    return db.session.scalar(
        sa.select(PartnerIntegration).where(
            PartnerIntegration.partner_organization_id == scope.organization.id
        )
    )


def status_vocabularies(owner_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    """Each organisation's words for our statuses (its ``chargecars_to_partner`` mapping)."""
    rows = db.session.execute(
        sa.select(
            PartnerIntegration.partner_organization_id, PartnerIntegration.status_mapping
        ).where(PartnerIntegration.partner_organization_id.in_(owner_ids))
    )
    return {org_id: (mapping or {}).get("chargecars_to_partner", {}) for org_id, mapping in rows}
