"""Onboarding a partner: organization, contact, integration, credentials."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from app.platform.audit.records import field_changes, record_change
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Contact, Organization, PartnerIntegration
from app.platform.models.enums import ContactType, OrganizationType, TokenKind
from app.platform.security.outbound import UnsafeTarget, vet_url

DEFAULT_WEBHOOK_EVENTS = ["status_changed"]


@dataclass
class NewPartner:
    organization: Organization
    integration: PartnerIntegration
    api_key: str
    webhook_secret: str
    # Signs test orders' callbacks to the sandbox URL.
    sandbox_webhook_secret: str


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def validate_webhook_url(url: str) -> str:
    """Check a callback URL before it is saved. Raises ValueError naming the problem.

    The outbound URL check (:func:`app.platform.security.outbound.vet_url`): https, and no
    ``localhost`` or private address; a name is checked again at every delivery,
    when DNS is resolved.
    """
    try:
        return vet_url(url)
    except UnsafeTarget as exc:
        raise ValueError(f"webhook_url: {PRIVATE_TARGET if exc.private else exc}") from exc


# Said the same way by the partner API, the portal and the admin page.
PRIVATE_TARGET = "must not point at a private or local address"


def create_partner(
    name: str, *, webhook_url: str | None = None, parent: Organization | None = None
) -> NewPartner:
    """Create a partner organization with its API key and webhook secrets (live, sandbox).

    The caller commits. The plain API key and secret exist only in the returned
    object: the key is stored hashed and the secret encrypted.
    """
    name = name.strip()
    if not name:
        raise ValueError("name: required")
    existing = db.session.scalar(
        sa.select(Organization.id).where(
            sa.func.lower(Organization.name) == name.lower(),
            Organization.organization_type == OrganizationType.PARTNER,
        )
    )
    if existing:
        raise ValueError(f"name: a partner called {name!r} already exists")
    if webhook_url:
        webhook_url = validate_webhook_url(webhook_url)

    organization = Organization(
        name=name,
        organization_type=OrganizationType.PARTNER,
        parent_organization_id=parent.id if parent else None,
    )
    db.session.add(organization)
    db.session.flush()
    # The partner is a contact of type organization too, so it can
    # be an order's account contact and a commission beneficiary.
    db.session.add(
        Contact(
            contact_type=ContactType.ORGANIZATION,
            organization_id=organization.id,
            display_name=name,
            is_primary=True,
        )
    )
    secret, sandbox_secret = new_webhook_secret(), new_webhook_secret()
    integration = PartnerIntegration(
        partner_organization_id=organization.id,
        integration_name=_slug(name) + "_api",
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_events=list(DEFAULT_WEBHOOK_EVENTS),
        sandbox_webhook_secret=sandbox_secret,
        sandbox_webhook_events=list(DEFAULT_WEBHOOK_EVENTS),
        status_mapping={"chargecars_to_partner": {}, "partner_to_chargecars": {}},
    )
    db.session.add(integration)
    _, api_key = issue_token(
        TokenKind.PARTNER, f"{name} API key", partner_organization_id=organization.id
    )
    db.session.flush()
    record_change(
        Organization.__tablename__,
        organization.id,
        "PARTNER_CREATED",
        field_changes(
            {},
            {
                "name": name,
                "parent": parent.name if parent else None,
                "webhook_url": webhook_url,
                "api_key": api_key,
                "webhook_secret": secret,
                "sandbox_webhook_secret": sandbox_secret,
            },
        ),
    )
    return NewPartner(organization, integration, api_key, secret, sandbox_secret)


def organization_contact(organization: Organization) -> Contact | None:
    """The contact standing for ``organization`` itself (``contact_type`` organization)."""
    return db.session.scalar(
        sa.select(Contact)
        .where(
            Contact.organization_id == organization.id,
            Contact.contact_type == ContactType.ORGANIZATION,
        )
        .order_by(Contact.created_at)
        .limit(1)
    )


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_") or "partner"
