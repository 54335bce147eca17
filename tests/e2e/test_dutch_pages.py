"""Every page, as each role reads it in Dutch, has no English on it.

The demo data (Dutch customers, orders, partners) is loaded and a few records it
lacks are added, so every page with an id in its address has one to show. Each
role signs in with a Dutch browser and visits every page it can open once
(tests/e2e/crawl.py); a page fails on any English word outside the short
allow-list there, naming the page, the element and the text.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.conversations.merges.contacts import merge_contacts
from app.integrations.endpoints import EVENT_NAMES, EndpointForm, create_endpoint
from app.orders.core.customer_links import link_url, live_link
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    ApiToken,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
    ContactMerge,
    InboundWebhookEvent,
    IntakeForm,
    Integration,
    InternalTask,
    Order,
    OrderDraft,
    Organization,
    OutboundDelivery,
    PlanProposal,
    SyncJob,
    User,
    Visit,
    VisitTechnician,
    WebhookEndpoint,
)
from app.platform.models.enums import OrganizationType, ProcessingState
from app.seed.demo import load_demo_data
from tests.e2e.crawl import Role, crawl, english_words, page_paths, report
from tests.support import factories
from tests.support.helpers import PASSWORD, enroll_two_factor
from tests.support.seeded_once import SeededOnce

PHONE = {"width": 375, "height": 812}
PARTNER_EMAIL = "portaal@partner.test"
DEMO_PASSWORD = "demo1234"  # noqa: S105  (the demo users' documented password)
# Pages whose address needs a record none of the seeded data gives (none now).
NOT_COVERED: set[str] = set()


def _first(statement):
    return db.session.scalars(statement.limit(1)).first()


def seed() -> None:
    """The demo data, second factors for the roles that need one, and a portal user."""
    load_demo_data()
    db.session.commit()
    for email in ("admin@switchboard.test", "manager@switchboard.test"):
        user = db.session.scalar(sa.select(User).where(User.email == email))
        enroll_two_factor(user)
    partner = _first(
        sa.select(Organization)
        .where(Organization.organization_type == OrganizationType.PARTNER)
        .order_by(Organization.name)
    )
    portal_user = create_user(
        PARTNER_EMAIL, "Petra Portaal", "partner", PASSWORD, partner_organization_id=partner.id
    )
    db.session.commit()
    enroll_two_factor(portal_user)
    add_what_the_demo_lacks(db.session.scalar(sa.select(User).where(User.role == "admin")))
    db.session.commit()
    api_order(partner)


# The order the desk's and the portal's order pages show: one a partner posted through
# the API (address unconfirmed, SKU unmapped), planned, started and completed, so its
# stored notes, preferences and callbacks are read as a Dutch reader sees them.
API_ORDER_ID = "CRAWL-API-1"


def api_order(partner: Organization) -> None:
    from datetime import date, time, timedelta

    from flask import current_app

    from app.orders.core.status_engine import change_entity_status
    from app.orders.mobile.visits import complete_visit, start_visit
    from app.orders.partners.keys import issue_partner_key
    from app.orders.planning.services import PlanRequest, save_plan
    from app.platform.models.enums import OrderStatus
    from tests.support.partner_support import line_items_order

    _token, key = issue_partner_key(partner, "crawl")
    db.session.commit()
    made = current_app.test_client().post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(API_ORDER_ID, line_items=[{"sku": "GRO-ONBEKEND-9", "quantity": 1}]),
        headers={"X-API-Key": key},
    )
    assert made.status_code == 201, made.get_json()
    order = db.session.scalar(sa.select(Order).where(Order.partner_order_id == API_ORDER_ID))
    planner = db.session.scalar(sa.select(User).where(User.email == "agent@switchboard.test"))
    technician = db.session.scalar(sa.select(User).where(User.email == "tech@switchboard.test"))
    change_entity_status(order, OrderStatus.APPROVED, actor=planner)
    day = date.today() + timedelta(days=1)
    # In the evening, after the demo's visits (they fill 08:00–17:00, on a weekend
    # day too when the demo is made on one): only the overridable hours rule applies.
    save_plan(
        order,
        PlanRequest(day, time(18), time(20), (technician.id,), 120, None, None, 0, override=True),
        planner,
        date.today(),
    )
    start_visit(order, technician)
    complete_visit(order, technician)
    db.session.commit()
    # A second one stays to review (address, SKU, a possible duplicate of the first):
    # its review card is read as a Dutch agent sees it.
    waiting = current_app.test_client().post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(API_ORDER_ID + "-2", line_items=[{"sku": "GRO-ONBEKEND-9"}]),
        headers={"X-API-Key": key},
    )
    assert waiting.status_code == 201, waiting.get_json()


def add_what_the_demo_lacks(admin: User) -> None:
    """An integration with a sync, a webhook endpoint, an intake form, an inbound
    webhook and a contact merge: records with a page of their own."""
    hubspot = factories.integration("hubspot", status="pending", credentials={})
    db.session.add(SyncJob(integration_id=hubspot.id, object_type="contacts", direction="inbound"))
    create_endpoint(
        EndpointForm(
            url="https://erp.voorbeeld.nl/hooks/switchboard",
            description="ERP",
            events=sorted(EVENT_NAMES)[:1],
            max_attempts=5,
            retry_base_seconds=None,
            custom_headers=None,
        ),
        admin,
    )
    db.session.add(IntakeForm(external_form_id="fillout-laadpaal", name="Aanvraag laadpaal"))
    # A proposed plan being made: its progress is a page of its own.
    day = date.today() + timedelta(days=7)
    db.session.add(
        PlanProposal(
            first_day=day,
            last_day=day,
            status="running",
            step="solving",
            progress=40,
            heartbeat_at=utcnow() + timedelta(minutes=5),
        )
    )
    db.session.add(
        InboundWebhookEvent(
            source="whatsapp",
            dedupe_key="wamid.crawl",
            raw_body=b'{"entry": []}',
            processing_state=ProcessingState.PROCESSED,
        )
    )
    kept, merged = db.session.scalars(
        sa.select(Contact.id)
        .where(Contact.contact_type == "person", Contact.erased_at.is_(None))
        .order_by(Contact.created_at.desc())
        .limit(2)
    ).all()
    merge_contacts(kept, merged, admin)


def _id(model, *where, order=None):
    row = _first(sa.select(model.id).where(*where).order_by(order or model.id))
    return str(row) if row is not None else None


def desk_values(agent: User) -> dict[str, str]:
    """Ids for the desk's pages: a thread of the agent's with messages, its contact …"""
    thread = _first(
        sa.select(CommunicationThread)
        .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
        .where(
            CommunicationThread.assigned_to_user_id == agent.id,
            CommunicationThread.contact_id.is_not(None),
        )
        .group_by(CommunicationThread.id)
        .order_by(sa.func.count(CommunicationMessage.id).desc())
    )
    other = _id(Contact, Contact.id != thread.contact_id)
    order = _first(sa.select(Order).where(Order.partner_order_id == API_ORDER_ID))
    integration = _first(sa.select(Integration).order_by(Integration.name))
    technician = _id(User, User.email == "tech@switchboard.test")
    values = {
        "thread_id": str(thread.id),
        "contact_id": str(thread.contact_id),
        "other_id": other,
        "key": order.order_number,
        "partner_id": _id(Organization, Organization.organization_type == OrganizationType.PARTNER),
        "user_id": technician,
        "integration_id": str(integration.id) if integration else None,
        "job_id": _id(SyncJob),
        "endpoint_id": _id(WebhookEndpoint),
        "template_id": _id(CommunicationTemplate, CommunicationTemplate.is_active),
        "task_id": _id(InternalTask),
        "form_id": _id(IntakeForm),
        "event_id": _id(InboundWebhookEvent),
        "draft_id": _id(OrderDraft),
        "merge_id": _id(ContactMerge),
        "proposal_id": _id(PlanProposal),
        # The customer's own page, as the link in their messages opens it.
        "token": link_url(live_link(order)).rsplit("/", 1)[-1],
        # The conversation a merge preview would merge into: another of the agent's.
        "into": _id(
            CommunicationThread,
            CommunicationThread.assigned_to_user_id == agent.id,
            CommunicationThread.id != thread.id,
        ),
    }
    db.session.commit()  # the link just made, for the live server to find
    return {name: value for name, value in values.items() if value is not None}


def technician_values() -> dict[str, str]:
    technician = db.session.scalar(sa.select(User).where(User.email == "tech@switchboard.test"))
    order_id = _first(
        sa.select(Visit.order_id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(VisitTechnician.technician_id == technician.id)
    )
    return {"order_id": str(order_id)} if order_id else {}


def partner_values() -> dict[str, str]:
    user = db.session.scalar(sa.select(User).where(User.email == PARTNER_EMAIL))
    organization = user.partner_organization_id
    values = {
        "order_id": _id(Order, Order.partner_order_id == API_ORDER_ID),
        "delivery_id": _id(
            OutboundDelivery,
            OutboundDelivery.order_id.in_(
                sa.select(Order.id).where(Order.partner_organization_id == organization)
            ),
        ),
        "token_id": _id(ApiToken, ApiToken.partner_organization_id == organization),
    }
    return {name: value for name, value in values.items() if value is not None}


def _role(app, live_server, name: str, email: str, values, keep, **screen) -> Role:
    """``name``'s pages among those ``keep`` takes; only the admin may open every one."""
    paths, uncovered = page_paths(app, values, keep)
    assert set(uncovered) <= NOT_COVERED, f"pages with no seeded record to show: {uncovered}"
    assert paths, f"no pages for {name}"
    password = PASSWORD if email == PARTNER_EMAIL else DEMO_PASSWORD
    return Role(
        name, email, live_server.url, paths, password=password, missing_ok=name != "admin", **screen
    )


def _desk(path: str) -> bool:
    return not path.startswith(("/portal", "/m/"))


# Each role's crawl starts from the same seeded world, built once per test process.
_SEEDED = SeededOnce()


@pytest.fixture
def seeded(app):
    _SEEDED.seed(seed)
    db.session.remove()
    yield app
    db.session.remove()


def crawl_desk(app, live_server, browser, role_name: str) -> None:
    """``role_name``'s crawl of the desk's pages (the manager's and the admin's are in
    test_dutch_pages_staff.py: `make test` hands out whole files, so the slowest
    crawls run on both processes)."""
    email = f"{role_name}@switchboard.test"
    agent = db.session.scalar(sa.select(User).where(User.email == "agent@switchboard.test"))
    values = desk_values(agent)
    db.session.remove()
    role = _role(app, live_server, role_name, email, values, _desk)
    # The order still to review, its review card and the desk's queue (the rules'
    # ``key`` is the completed order).
    waiting = db.session.scalar(
        sa.select(Order.order_number).where(Order.partner_order_id == API_ORDER_ID + "-2")
    )
    db.session.remove()
    assert waiting, "the API order still to review was not made"
    role.paths.extend([f"/orders/{waiting}", f"/orders/{waiting}/review", "/orders?tab=review"])
    problems = crawl(browser, role, english_words)
    assert problems == [], f"English on {role_name}'s Dutch pages:\n" + report(problems)


def test_the_agent_reads_only_dutch(seeded, live_server, browser):
    crawl_desk(seeded, live_server, browser, "agent")


def test_the_technician_reads_only_dutch_on_the_phone(seeded, live_server, browser):
    values = technician_values()
    db.session.remove()
    role = _role(
        seeded,
        live_server,
        "technician",
        "tech@switchboard.test",
        values,
        lambda path: path.startswith("/m/"),
        viewport=PHONE,
        phone=True,
    )
    problems = crawl(browser, role, english_words)
    assert problems == [], "English on the technician's Dutch pages:\n" + report(problems)


def test_the_partner_reads_only_dutch_in_the_portal(seeded, live_server, browser):
    values = partner_values()
    db.session.remove()
    role = _role(
        seeded,
        live_server,
        "partner",
        PARTNER_EMAIL,
        values,
        lambda path: path.startswith("/portal"),
    )
    problems = crawl(browser, role, english_words)
    assert problems == [], "English on the partner's Dutch pages:\n" + report(problems)


def test_the_check_finds_english(live_server, browser):
    """The check can fail: an English text on a Dutch page is reported with its element."""
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.evaluate(
            "() => { const p = document.createElement('p'); p.id = 'leak';"
            " p.textContent = 'Attachment saved 2 minutes ago'; document.body.append(p);"
            " const q = document.createElement('p'); q.dataset.userContent = '';"
            " q.textContent = 'Please call me back'; document.body.append(q);"
            " const n = document.createElement('p'); n.id = 'numbers'; n.textContent ="
            " 'Bijlage 5.7 MB (max. 5,7 MB) · 100.0% of 100,0 % · 7 h 01 min of 7 u 01 min'"
            " + ' · 1.184 % · 127.0.0.1'; document.body.append(n); }"
        )
        problems = english_words(page, "/login")
    finally:
        context.close()
    assert len(problems) == 2, problems
    assert problems[0].startswith("p#leak: Attachment, saved, minutes, ago")
    assert problems[1].startswith("p#numbers: 5.7 MB, 100.0%, 7 h in")
