"""The intake forms we know: found by Fillout's form id, registered on first sight."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.orders.fillout.mapping import mapping_problems, target_field
from app.orders.fillout.payloads import InvalidSubmission, Submission, parse_submission
from app.platform.audit.records import record_edit
from app.platform.extensions import db
from app.platform.models import FormSubmission, IntakeForm, Organization
from app.platform.models.enums import OrganizationType
from app.platform.security.bodies import loads as load_json


def find_form(external_form_id: str) -> IntakeForm | None:
    return db.session.scalar(
        sa.select(IntakeForm).where(IntakeForm.external_form_id == external_form_id)
    )


def form_for(submission: Submission) -> IntakeForm:
    """The submission's form; a form seen for the first time is registered.

    Registering it lets an admin find it on the intake forms page and give it a
    mapping or a partner; until then the default labels apply.
    """
    form = find_form(submission.form_id)
    if form is not None:
        return form
    form = IntakeForm(
        external_form_id=submission.form_id,
        name=(submission.form_name or submission.form_id)[:200],
        field_mapping={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(form)
    except IntegrityError:
        # Two first submissions of one form at once: the other job registered it.
        form = find_form(submission.form_id)
        if form is None:
            raise
    return form


def list_forms() -> list[IntakeForm]:
    return list(db.session.scalars(sa.select(IntakeForm).order_by(IntakeForm.name)))


def partners() -> list[Organization]:
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.organization_type == OrganizationType.PARTNER)
            .order_by(Organization.name)
        )
    )


class InvalidForm(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def update_form(
    form: IntakeForm,
    *,
    name: str,
    mapping_json: str,
    partner_id: str | None,
    is_active: bool,
) -> IntakeForm:
    """Apply an admin's edit (no commit); :class:`InvalidForm` naming each bad field."""
    problems: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = _("required")
    elif len(name) > 200:
        problems["name"] = _("at most %(max)s characters", max=200)
    try:
        mapping = load_json(mapping_json or "{}")
    except ValueError as exc:
        mapping = None
        problems["field_mapping"] = _("not valid JSON: %(error)s", error=exc)
    else:
        problems.update(mapping_problems(mapping))
    partner = None
    if partner_id:
        try:
            partner = db.session.get(Organization, uuid.UUID(partner_id))
        except ValueError:
            partner = None
        if partner is None or partner.organization_type != OrganizationType.PARTNER:
            problems["partner_organization_id"] = _("not a partner")
    if problems:
        raise InvalidForm(problems)
    before = _audited(form)
    form.name = name
    form.field_mapping = mapping
    form.partner_organization_id = partner.id if partner else None
    form.is_active = is_active
    record_edit(IntakeForm.__tablename__, form.id, "INTAKE_FORM_UPDATED", before, _audited(form))
    return form


def _audited(form: IntakeForm) -> dict:
    """What the audit log compares of a form: the partner by name, as the page shows it."""
    partner = (
        db.session.get(Organization, form.partner_organization_id)
        if form.partner_organization_id
        else None
    )
    return {
        "name": form.name,
        "field_mapping": form.field_mapping,
        "partner": partner.name if partner else None,
        "is_active": form.is_active,
    }


def submission_counts() -> dict[uuid.UUID, int]:
    rows = db.session.execute(
        sa.select(FormSubmission.intake_form_id, sa.func.count()).group_by(
            FormSubmission.intake_form_id
        )
    ).all()
    return {form_id: count for form_id, count in rows if form_id is not None}


def latest_questions(form: IntakeForm) -> list[tuple[str, str, str]]:
    """``(id, name, field it fills)`` for the questions of the form's latest submission.

    Shown next to the mapping editor, so an admin sees the names to map and
    what the current mapping makes of each.
    """
    latest = db.session.scalar(
        sa.select(FormSubmission)
        .where(FormSubmission.intake_form_id == form.id)
        .order_by(FormSubmission.created_at.desc())
        .limit(1)
    )
    if latest is None:
        return []
    try:
        submission = parse_submission(latest.raw_data or {})
    except InvalidSubmission:
        return []
    return [
        (answer.id, answer.name, target_field(answer, form.field_mapping) or "—")
        for answer in submission.answers
    ]
