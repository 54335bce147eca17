"""Demo data for ``flask seed demo``: a believable ChargeCars inbox on a fresh database.

Staff, teams, the five channel partners (one with a dealer chain), the
catalogue, channels, templates, ~150 households, ~120 orders with their history
and a few hundred conversations. Everything is drawn from one seeded random
generator, so two runs give the same demo (only uuids and "now" differ).

The caller commits; this module only adds and flushes, in a handful of batches.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from app.conversations.inbox.search import rebuild_search_documents
from app.conversations.sla.editing import ensure_defaults as ensure_sla_defaults
from app.orders.partners.services import create_partner
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Contact, Organization, Team, User
from app.platform.models.enums import (
    AuthenticationType,
    Availability,
    ContactType,
    OrganizationType,
    Role,
    SyncFrequency,
)
from app.seed.context import DemoContext, Partner
from app.seed.demo_calls import build_calls
from app.seed.demo_catalogue import build_catalogue, build_channels_and_templates
from app.seed.demo_csat import build_csat
from app.seed.demo_customers import build_customers
from app.seed.demo_intake import build_order_email_intake
from app.seed.demo_languages import build_english_conversation, build_english_templates
from app.seed.demo_orders import build_orders
from app.seed.demo_partner_activity import build_partner_activity
from app.seed.demo_planning import build_planning
from app.seed.demo_tasks import build_notifications, build_tasks
from app.seed.demo_threads import build_threads

DEMO_PASSWORD = "demo1234"  # noqa: S105 - the documented demo password

# slug, name, Teams channel key, description
TEAMS = [
    ("customer-service", "Klantenservice", "operations", "Eerste lijn: e-mail, WhatsApp en SMS."),
    ("tech", "Techniek", "tech", "Monteurs, planning en technische storingen."),
    ("sales", "Sales", None, "Offertes, zakelijke aanvragen en VvE's."),
    ("management", "Management", "management", "Escalaties, rapportage en beheer."),
]

# e-mail, name, role, team slug, skills, availability
STAFF = [
    (
        "admin@switchboard.test",
        "Jeroen Smit",
        Role.ADMIN,
        "management",
        ["beheer"],
        Availability.AVAILABLE,
    ),
    (
        "manager@switchboard.test",
        "Marieke Bos",
        Role.MANAGER,
        "management",
        ["escalaties", "partners"],
        Availability.AVAILABLE,
    ),
    (
        "agent@switchboard.test",
        "Anouk de Vries",
        Role.AGENT,
        "customer-service",
        ["email", "whatsapp", "facturatie"],
        Availability.AVAILABLE,
    ),
    (
        "tech@switchboard.test",
        "Daan Mulder",
        Role.TECHNICIAN,
        "tech",
        ["alfen", "zaptec", "3-fase"],
        Availability.BUSY,
    ),
    (
        "sanne.bakker@switchboard.test",
        "Sanne Bakker",
        Role.TEAM_LEAD,
        "customer-service",
        ["email", "whatsapp", "klachten"],
        Availability.AVAILABLE,
    ),
    (
        "thomas.vandijk@switchboard.test",
        "Thomas van Dijk",
        Role.AGENT,
        "customer-service",
        ["email", "sms", "planning"],
        Availability.AVAILABLE,
    ),
    (
        "fatima.elamrani@switchboard.test",
        "Fatima el Amrani",
        Role.AGENT,
        "customer-service",
        ["whatsapp", "facturatie"],
        Availability.AWAY,
    ),
    (
        "lars.meijer@switchboard.test",
        "Lars Meijer",
        Role.AGENT,
        "sales",
        ["offertes", "zakelijk", "laadbalancering"],
        Availability.AVAILABLE,
    ),
    (
        "emma.peters@switchboard.test",
        "Emma Peters",
        Role.AGENT,
        "sales",
        ["offertes", "vve"],
        Availability.OFFLINE,
    ),
    (
        "ruben.dejong@switchboard.test",
        "Ruben de Jong",
        Role.TECHNICIAN,
        "tech",
        ["easee", "myenergi", "laadbalancering"],
        Availability.BUSY,
    ),
    (
        "kevin.hendriks@switchboard.test",
        "Kevin Hendriks",
        Role.TEAM_LEAD,
        "tech",
        ["planning", "alfen", "3-fase"],
        Availability.AVAILABLE,
    ),
]

# Who answers customers, so signs e-mails: the demo shows the signature feature.
SIGNED_ROLES = (Role.AGENT, Role.TEAM_LEAD)

# name, website domain, order-id prefix, commission per channel level, sync frequency
PARTNERS = [
    ("Groendus", "groendus.nl", "GRO", {"1": 5.0, "2": 3.0, "3": 2.0}, SyncFrequency.REAL_TIME),
    ("Essent", "essent.nl", "ESS", {"1": 4.0}, SyncFrequency.REAL_TIME),
    ("Eneco", "eneco.nl", "ENE", {"1": 4.0}, SyncFrequency.EVERY_15_MINUTES),
    ("50five", "50five.com", "50F", {"1": 6.0}, SyncFrequency.HOURLY),
    ("Alva", "alva-charging.nl", "ALV", {"1": 3.5}, SyncFrequency.HOURLY),
]
# Groendus sells through a regional partner and a local dealer: a channel hierarchy.
SUB_PARTNERS = [
    ("Groendus Regio Oost", "Groendus", "groendus-oost.nl"),
    ("Laadpunt Zwolle B.V.", "Groendus Regio Oost", "laadpuntzwolle.nl"),
]

_STATUS_ORDER = [
    "new",
    "quote_sent",
    "approved",
    "scheduled",
    "in_progress",
    "completed",
    "on_hold",
    "cancelled",
]
# Each partner's own words for our statuses (their ``status_mapping``), same order.
PARTNER_VOCABULARY = {
    "Groendus": [
        "RECEIVED",
        "QUOTED",
        "CONFIRMED",
        "PLANNED",
        "IN_PROGRESS",
        "DELIVERED",
        "ON_HOLD",
        "CANCELLED",
    ],
    "Essent": [
        "ontvangen",
        "offerte_verstuurd",
        "akkoord",
        "ingepland",
        "in_uitvoering",
        "afgerond",
        "gepauzeerd",
        "geannuleerd",
    ],
    "Eneco": [
        "OPEN",
        "QUOTE",
        "ACCEPTED",
        "SCHEDULED",
        "WORK_STARTED",
        "DONE",
        "PAUSED",
        "CANCELLED",
    ],
    "50five": [
        "received",
        "quoted",
        "confirmed",
        "scheduled",
        "installing",
        "installed",
        "on_hold",
        "cancelled",
    ],
    "Alva": [
        "NEW",
        "OFFER_SENT",
        "APPROVED",
        "APPOINTMENT_SET",
        "IN_PROGRESS",
        "COMPLETED",
        "ON_HOLD",
        "CANCELLED",
    ],
}


def load_demo_data(force: bool = False) -> dict:
    """Fill an empty database with the demo; return what was made, by kind.

    Refuses (``skipped``) when users already exist, unless ``force``; even then it
    will not load the demo twice, because partner names and SKUs are unique.
    """
    if not force and db.session.scalar(sa.select(User.id).limit(1)) is not None:
        return {"skipped": True, "reason": "database already has users"}
    if (
        db.session.scalar(
            sa.select(Organization.id)
            .where(
                Organization.organization_type == OrganizationType.PARTNER,
                Organization.name == PARTNERS[0][0],
            )
            .limit(1)
        )
        is not None
    ):
        return {"skipped": True, "reason": "demo partners already exist (demo data loaded?)"}

    ctx = DemoContext.start(utcnow())
    build_staff(ctx)
    build_partners(ctx)
    build_catalogue(ctx)
    build_channels_and_templates(ctx)
    build_english_templates(ctx)
    ensure_sla_defaults()  # the default calendar and SLA policies the threads are timed by
    build_customers(ctx)
    build_orders(ctx)
    threads, message_count = build_threads(ctx)
    tasks = build_tasks(ctx, threads)
    notification_count = build_notifications(ctx, threads, tasks)
    calls = build_calls(ctx, threads)
    ratings, survey_messages = build_csat(ctx, threads)
    drafts = build_order_email_intake()
    partner_activity = build_partner_activity(ctx)
    visits = build_planning(ctx)
    # Last: it draws nothing the builders above depend on (app/seed/demo_languages.py).
    english_messages = build_english_conversation(ctx, {info.thread.contact_id for info in threads})
    db.session.flush()
    # Search documents are built in one statement once every message is in.
    rebuild_search_documents()
    return {
        "order_email_drafts": drafts,
        "users": len(ctx.users),
        "teams": len(ctx.teams),
        "partners": len(PARTNERS),
        "sub_partners": len(SUB_PARTNERS),
        "articles": len(ctx.articles),
        "sku_mappings": len(ctx.sku_map),
        "channels": len(ctx.channels),
        "templates": len(ctx.templates),
        "customers": len(ctx.customers),
        "orders": len(ctx.orders),
        "visits": visits,
        "threads": len(threads) + 1,
        "messages": message_count + calls + english_messages + survey_messages,
        "calls": calls,
        "ratings": ratings,
        "tasks": len(tasks),
        "notifications": notification_count,
        **partner_activity,
    }


def build_staff(ctx: DemoContext) -> None:
    """Teams and the demo accounts; existing teams and users (``--force``) are reused."""
    existing_teams = {team.slug: team for team in db.session.scalars(sa.select(Team))}
    for slug, name, channel_key, description in TEAMS:
        team = existing_teams.get(slug) or Team(
            id=uuid.uuid4(),
            slug=slug,
            name=name,
            teams_channel_key=channel_key,
            description=description,
        )
        db.session.add(team)
        ctx.teams[slug] = team
    db.session.flush()

    emails = [row[0] for row in STAFF]
    existing_users = {
        user.email: user
        for user in db.session.scalars(sa.select(User).where(User.email.in_(emails)))
    }
    for email, name, role, team_slug, skills, availability in STAFF:
        user = existing_users.get(email) or create_user(
            email,
            name,
            role,
            DEMO_PASSWORD,
            team_id=ctx.teams[team_slug].id,
            skills=skills,
            availability=availability,
            max_open_threads=15 if role in (Role.TEAM_LEAD, Role.MANAGER) else 25,
            phone="+3161" + ctx.token(7, "0123456789"),
        )
        if role in SIGNED_ROLES and not user.email_signature:
            user.email_signature = agent_signature_text(name)
        ctx.users[email.split("@")[0]] = user


def agent_signature_text(name: str) -> str:
    """The Dutch signature a demo agent signs customer mails with."""
    return f"Met vriendelijke groet,\n{name}\nKlantenservice ChargeCars"


def build_partners(ctx: DemoContext) -> None:
    """The five channel partners through the onboarding service, plus a dealer chain."""
    made = {}
    for name, domain, _prefix, rates, frequency in PARTNERS:
        made[name] = _onboard(ctx, name, domain, None)
        organization, integration = made[name]
        organization.commission_rates = rates
        vocabulary = PARTNER_VOCABULARY[name]
        integration.status_mapping = {
            "chargecars_to_partner": dict(zip(_STATUS_ORDER, vocabulary, strict=True)),
            # A partner granted only the default (on_hold) pauses an order; its
            # cancellation is a request (on hold) that an agent confirms
            # (app.orders.partners.grants).
            "partner_to_chargecars": {
                vocabulary[_STATUS_ORDER.index("on_hold")]: "on_hold",
                vocabulary[_STATUS_ORDER.index("cancelled")]: "on_hold",
            },
        }
        integration.api_base_url = f"https://api.{domain}/chargecars"
        integration.api_version = "v2"
        integration.authentication_type = AuthenticationType.API_KEY
        integration.sync_frequency = frequency
        integration.webhook_events = [
            "status_changed",
            "visit_scheduled",
            "installation_completed",
        ]
        integration.success_rate = Decimal(str(round(ctx.rng.uniform(96.5, 99.9), 2)))
        integration.last_sync_at = ctx.ago(minutes=ctx.rng.randint(2, 90))
        integration.rate_limit_per_minute = 120
    for name, parent_name, domain in SUB_PARTNERS:
        made[name] = _onboard(ctx, name, domain, made[parent_name][0])
        # Dealers order through their master's systems, so they share its vocabulary.
        made[name][1].status_mapping = dict(made[parent_name][1].status_mapping)

    partner_contacts = {
        contact.organization_id: contact
        for contact in db.session.scalars(
            sa.select(Contact).where(
                Contact.contact_type == ContactType.ORGANIZATION,
                Contact.organization_id.in_([org.id for org, _ in made.values()]),
            )
        )
    }
    orgs_by_id = {org.id: org for org, _ in made.values()}
    prefixes = {name: prefix for name, _domain, prefix, _rates, _freq in PARTNERS}
    for name, (organization, _integration) in made.items():
        chain_orgs = [organization]
        while chain_orgs[-1].parent_organization_id is not None:
            chain_orgs.append(orgs_by_id[chain_orgs[-1].parent_organization_id])
        contact = partner_contacts[organization.id]
        contact.email = organization.email
        contact.phone = organization.phone
        ctx.partners[name] = Partner(
            organization=organization,
            contact=contact,
            chain=[partner_contacts[org.id] for org in chain_orgs],
            master=chain_orgs[-1],
            order_prefix=prefixes[chain_orgs[-1].name],
        )
    db.session.flush()


def _onboard(ctx: DemoContext, name: str, domain: str, parent: Organization | None):
    partner = create_partner(name, parent=parent)
    organization = partner.organization
    organization.email = f"partnerdesk@{domain}"
    organization.website = f"https://www.{domain}"
    organization.phone = "+3188" + ctx.token(7, "0123456789")
    organization.kvk_number = ctx.token(8, "0123456789")
    organization.vat_number = f"NL{ctx.token(9, '0123456789')}B01"
    return organization, partner.integration
