"""A stored Fillout submission becomes an order in seven steps, in the webhook job.

1. the customer's organization and 2. contact (found by e-mail, then phone),
3. the installation address checked against the BAG, 4. the form submission
kept raw, 5. a preliminary order (status ``new``) with the charging needs as
notes, 6. a line per selected product, 7. a notification to the desk.

All of it in the job's transaction: it is there completely or not at all, and
a submission already turned into an order is not turned into a second one.
"""

from __future__ import annotations

import json
import logging
import uuid

import sqlalchemy as sa

from app.conversations.notifications.services import announce, create_notification
from app.orders.core.creation import (
    add_line,
    find_or_create_customer,
    flag_for_review,
    flag_possible_duplicate,
    installation_address,
    new_order,
)
from app.orders.core.customer_details import keep_customer_as_sent
from app.orders.core.status_engine import record_initial_status
from app.orders.fillout.forms import form_for
from app.orders.fillout.mapping import Intake, intake_problems, map_submission
from app.orders.fillout.payloads import InvalidSubmission, Submission, parse_submission
from app.orders.partners.intake import channel_contacts
from app.platform.extensions import db
from app.platform.models import (
    FormSubmission,
    InboundWebhookEvent,
    IntakeForm,
    Order,
    Organization,
    User,
)
from app.platform.models.enums import (
    AddressValidation,
    OrderSource,
    OrderStatus,
    OrganizationType,
    Role,
)
from app.platform.system_texts import text
from app.platform.transactions import after_commit
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)

NOTIFIED_ROLES = (Role.AGENT, Role.TEAM_LEAD)


def process_event(event: InboundWebhookEvent) -> None:
    """PROCESSORS entry for source ``fillout``."""
    try:
        payload = json.loads(event.raw_body)
        if not isinstance(payload, dict):
            raise ValueError("the body is not a JSON object")
        submission = parse_submission(payload)
    except (ValueError, InvalidSubmission) as exc:
        raise UnprocessableEvent(f"not a Fillout submission: {exc}") from exc
    if _already_taken(submission) is not None:
        log.info("Fillout submission %s was taken in before", submission.dedupe_key)
        return
    form = form_for(submission)
    if not form.is_active:
        raise UnprocessableEvent(f"form {form.external_form_id} is switched off")
    intake = map_submission(submission, form.field_mapping)
    problems = intake_problems(intake)
    if problems:
        # The endpoint checked this; the form's mapping has changed since.
        raise UnprocessableEvent(f"submission cannot become an order: {problems}")
    create_intake_order(form, submission, intake, payload)


def create_intake_order(
    form: IntakeForm, submission: Submission, intake: Intake, raw: dict
) -> Order:
    """The seven intake steps for one submission (no commit)."""
    name = intake.customer_name or ""
    contact = find_or_create_customer(name, intake.email, intake.phone)  # steps 1 and 2
    details = intake.address_details()
    address = installation_address(contact, details) if details else None  # step 3
    record = FormSubmission(  # step 4
        intake_form_id=form.id,
        external_form_id=submission.form_id,
        external_submission_id=submission.submission_id,
        organization_id=contact.organization_id,
        contact_id=contact.id,
        raw_data=raw,
        submitted_at=submission.submitted_at,
    )
    db.session.add(record)
    partner, partner_problem = _partner(form, intake)
    chain = channel_contacts(partner) if partner is not None else []
    order = new_order(  # step 5
        status=OrderStatus.NEW,
        source=OrderSource.FILLOUT,
        partner_organization_id=partner.id if partner else None,
        account_contact_id=chain[0].id if chain else contact.id,
        partner_contact_id=chain[0].id if chain else None,
        end_customer_contact_id=contact.id,
        customer_organization_id=contact.organization_id,
        channel_contact_ids=[str(c.id) for c in chain],
        partner_external_references={
            "fillout_form_id": submission.form_id,
            "fillout_submission_id": submission.submission_id,
        },
        installation_address_id=address.id if address else None,
        installation_preferences=_preferences(intake),
        notes=_notes(intake),
    )
    record.order_id = order.id
    keep_customer_as_sent(order, contact, name=name, email=intake.email, phone=intake.phone)
    if address is None:
        flag_for_review(order, "the form gave no installation address")
    elif address.validation_state != AddressValidation.VALID:
        flag_for_review(order, f"address not confirmed by PDOK: {address.validation_message}")
    if partner_problem:
        flag_for_review(order, partner_problem)
    for product in intake.selected_products:  # step 6
        add_line(
            order,
            sku=None,
            description=product,
            partner_organization_id=partner.id if partner else None,
        )
    flag_possible_duplicate(order)
    record_initial_status(
        order,
        f"Intake received via Fillout form {form.name}",
        {
            "source": "fillout",
            "form_id": submission.form_id,
            "submission_id": submission.submission_id,
            "partner_source": partner is not None,
        },
    )
    db.session.flush()
    notify_desk(order, name, address.one_line() if address else intake.address_text())  # step 7
    return order


def notify_desk(order: Order, customer_name: str, location: str) -> None:
    """Tell agents and team leads a new intake is waiting (announced after commit)."""
    users = db.session.scalars(
        sa.select(User).where(User.role.in_(NOTIFIED_ROLES), User.is_active_account.is_(True))
    ).all()
    for user in users:
        notification = create_notification(
            user.id,
            "order_intake_received",
            text("notification.intake", customer=customer_name),
            text("notification.intake_location", location=location or text("notification.unknown")),
            source_table="orders",
            source_record_id=order.id,
            link=f"/orders/{order.order_number}",
        )
        after_commit(lambda n=notification: announce(n))


def _already_taken(submission: Submission) -> uuid.UUID | None:
    return db.session.scalar(
        sa.select(FormSubmission.id).where(
            FormSubmission.external_form_id == submission.form_id,
            FormSubmission.external_submission_id == submission.submission_id,
        )
    )


def _partner(form: IntakeForm, intake: Intake) -> tuple[Organization | None, str | None]:
    """The form's partner, else one named by the link (``?partner=``/``?ref=``)."""
    if form.partner_organization_id:
        return db.session.get(Organization, form.partner_organization_id), None
    reference = intake.get("partner")
    if not reference:
        return None, None
    partner = None
    try:
        partner = db.session.get(Organization, uuid.UUID(reference))
    except ValueError:
        partner = db.session.scalar(
            sa.select(Organization).where(
                sa.func.lower(Organization.name) == reference.lower(),
                Organization.organization_type == OrganizationType.PARTNER,
            )
        )
    if partner is None or partner.organization_type != OrganizationType.PARTNER:
        return None, f"unknown partner reference {reference!r}"
    return partner, None


def _preferences(intake: Intake) -> dict:
    preferences = {"preference": intake.get("installation_preference")}
    if intake.unmapped:
        # Answers no field takes stay readable next to the order.
        preferences["other_answers"] = intake.unmapped
    return {k: v for k, v in preferences.items() if v}


def _notes(intake: Intake) -> str | None:
    parts = [intake.get("charging_needs"), intake.get("notes")]
    return "\n\n".join(p for p in parts if p) or None
