"""Admin pages of the intake forms: which Fillout forms we take, and how each is read."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.orders.fillout.forms import (
    InvalidForm,
    latest_questions,
    list_forms,
    partners,
    submission_counts,
    update_form,
)
from app.orders.fillout.mapping import DEFAULT_LABELS, IGNORE, INTAKE_FIELDS
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import IntakeForm
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("intake_forms", __name__, url_prefix="/admin/intake-forms")


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return render_template(
        "fillout/index.html",
        forms=list_forms(),
        counts=submission_counts(),
        partner_names={partner.id: partner.name for partner in partners()},
    )


@bp.route("/<uuid:form_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(form_id):
    form = db.get_or_404(IntakeForm, form_id, description=_("There is no such intake form."))
    errors: dict[str, str] | None = None  # InvalidForm names them
    mapping_text = json.dumps(form.field_mapping or {}, indent=2, ensure_ascii=False)
    if request.method == "POST":
        mapping_text = request.form.get("field_mapping", "")
        try:
            update_form(
                form,
                name=request.form.get("name", ""),
                mapping_json=mapping_text,
                partner_id=request.form.get("partner_organization_id") or None,
                is_active=request.form.get("is_active") == "1",
            )
        except InvalidForm as exc:
            db.session.rollback()
            errors = exc.fields
        else:
            commit()
            flash(_("The intake form is saved."), "info")
            return redirect(url_for("intake_forms.edit", form_id=form.id), 303)
    return render_template(
        "fillout/edit.html",
        form=form,
        errors=errors or {},
        values=request.form if request.method == "POST" else None,
        mapping_text=mapping_text,
        partners=partners(),
        questions=latest_questions(form),
        intake_fields={**INTAKE_FIELDS, IGNORE: _("Leave the answer out")},
        default_labels=sorted(DEFAULT_LABELS.items(), key=lambda item: (item[1], item[0])),
    ), (422 if errors else 200)
