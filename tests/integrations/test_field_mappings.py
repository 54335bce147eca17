"""Field mappings: safe transforms, dot paths, validation, defaults and the editor page."""

from __future__ import annotations

import html as html_lib
import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.integrations.sync import (
    TRANSFORMS,
    MappingError,
    MappingSpec,
    build_inbound,
    build_outbound,
    default_mappings,
    mappings_for,
    validate_rows,
)
from app.platform.extensions import db
from app.platform.models import AuditLog, FieldMapping, Integration
from tests.support import factories
from tests.support.helpers import csrf_token_from


def test_transforms_are_a_fixed_table_of_plain_functions():
    assert set(TRANSFORMS) == {
        "none",
        "upper",
        "lower",
        "trim",
        "e164",
        "cents_to_euros",
        "euros_to_cents",
        "date_iso",
    }
    t = TRANSFORMS
    assert t["e164"]("06 12345678") == "+31612345678"
    assert t["euros_to_cents"]("14.99") == 1499 and t["cents_to_euros"](1499) == Decimal("14.99")
    assert t["date_iso"](datetime(2026, 3, 1, 9, tzinfo=timezone.utc)) == "2026-03-01"
    assert t["trim"]("  a ") == "a" and t["upper"]("a") == "A"
    with pytest.raises(ValueError):
        t["e164"]("not a number")


def test_outbound_builds_nested_payloads_and_names_every_bad_field():
    specs = [
        MappingSpec("contact.name", "DisplayName", required=True, transform="trim"),
        MappingSpec("contact.email", "PrimaryEmailAddr.Address", transform="lower"),
        MappingSpec("order.total", "Line.0.Amount", "money"),
        MappingSpec("order.count", "Line.0.Qty", "number"),
        MappingSpec("contact.vip", "Vip", "boolean"),
        MappingSpec("contact.note", "Note", direction="in"),
    ]
    values = {
        "contact.name": " Anna ",
        "contact.email": "A@B.NL",
        "order.total": Decimal("10.5"),
        "order.count": "2",
        "contact.vip": "yes",
        "contact.note": "ignored outbound",
    }
    assert build_outbound(specs, values) == {
        "DisplayName": "Anna",
        "PrimaryEmailAddr": {"Address": "a@b.nl"},
        "Line": [{"Amount": 10.5, "Qty": 2}],
        "Vip": True,
    }
    with pytest.raises(MappingError) as bad:
        build_outbound(specs, {**values, "contact.name": "", "order.count": "veel"})
    assert bad.value.fields == {"contact.name": "is required", "order.count": "is not a number"}


def test_inbound_reads_dot_paths_and_undoes_unit_transforms():
    specs = [
        MappingSpec("payment.amount", "amount", "money", transform="euros_to_cents"),
        MappingSpec("contact.email", "properties.email", required=True, transform="lower"),
        MappingSpec("order.completed_at", "closedate", "date"),
        MappingSpec("order.total", "Line.0.Amount", "money", direction="out"),
    ]
    remote = {
        "amount": 1499,
        "properties": {"email": "X@Y.NL"},
        "closedate": "2026-01-02T10:00:00Z",
    }
    assert build_inbound(specs, remote) == {
        "payment.amount": Decimal("14.99"),
        "contact.email": "x@y.nl",
        "order.completed_at": date(2026, 1, 2),
    }
    with pytest.raises(MappingError, match="properties.email: is required"):
        build_inbound(specs, {"amount": 1})


def test_quickbooks_customer_defaults_name_phone_and_email():
    specs = {s.local_field: s for s in default_mappings("quickbooks", "customers")}
    assert specs["contact.name"].remote_field == "DisplayName" and specs["contact.name"].required
    assert specs["contact.email"].remote_field == "PrimaryEmailAddr.Address"
    assert specs["contact.phone"].remote_field == "PrimaryPhone.FreeFormNumber"
    assert default_mappings("pipedrive", "persons")  # generic contacts
    assert default_mappings("rovida", "properties") == ()


def test_validate_rows_rejects_unknown_fields_paths_and_transforms():
    rows = [
        {"local_field": "contact.email", "remote_field": "email", "transform": "lower"},
        {"local_field": "contact.secret", "remote_field": "x"},
        {"local_field": "contact.name", "remote_field": "a..b", "transform": "__import__"},
        {"local_field": "", "remote_field": ""},
    ]
    with pytest.raises(MappingError) as bad:
        validate_rows("customers", rows)
    assert set(bad.value.fields) == {
        "rows-1-local_field",
        "rows-2-remote_field",
        "rows-2-transform",
    }
    [spec] = validate_rows("customers", rows[:1])
    assert spec == MappingSpec("contact.email", "email", transform="lower")


def _quickbooks(realm="123") -> Integration:
    integration = factories.integration(
        "quickbooks",
        credentials={"access_token": "t", "expires_at": time.time() + 3600},
        config={"realm_id": realm},
    )
    db.session.commit()
    return integration


def test_editor_is_admin_only_saves_with_csrf_and_previews_without_calling_out(
    app, client, auth, make_user
):
    integration = _quickbooks()
    factories.contact(display_name="Jan Smit", email="JAN@example.nl", phone="0612345678")
    db.session.commit()
    agent = make_user("agent")
    auth.login(agent.email)
    assert client.get(f"/integrations/{integration.id}/mappings").status_code == 403
    auth.logout()
    admin = make_user("admin")
    auth.login(admin.email)

    page = client.get(f"/integrations/{integration.id}/mappings?object=customers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "PrimaryEmailAddr.Address" in html
    token = csrf_token_from(html)
    form = {
        "csrf_token": token,
        "object_type": "customers",
        "row_count": "2",
        "rows-0-local_field": "contact.name",
        "rows-0-remote_field": "DisplayName",
        "rows-0-data_type": "string",
        "rows-0-direction": "both",
        "rows-0-transform": "upper",
        "rows-0-required": "on",
        "rows-1-local_field": "contact.phone",
        "rows-1-remote_field": "PrimaryPhone.FreeFormNumber",
        "rows-1-data_type": "string",
        "rows-1-direction": "out",
        "rows-1-transform": "e164",
    }
    preview = client.post(
        f"/integrations/{integration.id}/mappings/preview", data=form, headers={"HX-Request": "1"}
    )
    body = html_lib.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200 and "Jan Smit" in body
    assert '"DisplayName": "JAN SMIT"' in body and "+31612345678" in body
    assert db.session.scalar(sa.select(sa.func.count(FieldMapping.id))) == 0  # nothing saved

    assert (
        client.post(
            f"/integrations/{integration.id}/mappings", data={**form, "csrf_token": ""}
        ).status_code
        == 400
    )
    bad = client.post(
        f"/integrations/{integration.id}/mappings", data={**form, "rows-1-transform": "eval"}
    )
    assert bad.status_code == 422 and "rows-1-transform" in bad.get_data(as_text=True)
    saved = client.post(f"/integrations/{integration.id}/mappings", data=form)
    assert saved.status_code == 303
    db.session.expire_all()
    specs = mappings_for(db.session.get(Integration, integration.id), "customers")
    assert [(s.local_field, s.transform, s.required) for s in specs] == [
        ("contact.name", "upper", True),
        ("contact.phone", "e164", False),
    ]
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "MAPPINGS_SAVED"))
    assert audit.changed_by_user_id == admin.id
    assert json.dumps(audit.changes).count("PrimaryEmailAddr") == 1  # the defaults it replaced


def test_sync_pages_trigger_show_progress_and_cancel(app, client, auth, make_user):
    integration = _quickbooks()
    admin = make_user("admin")
    auth.login(admin.email)
    token = auth.csrf_token(f"/integrations/{integration.id}/sync")
    app.extensions["broker"].stop_embedded_worker()  # keep the job pending for the page
    started = client.post(
        f"/integrations/{integration.id}/sync",
        data={"csrf_token": token, "object_type": "customers", "direction": "out"},
    )
    assert started.status_code == 303 and "/sync/" in started.headers["Location"]
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and 'data-status="pending"' in page
    block = client.get(started.headers["Location"], headers={"HX-Request": "1"})
    assert 'data-testid="sync-progress"' in block.get_data(as_text=True)
    assert "<html" not in block.get_data(as_text=True)
    cancelled = client.post(started.headers["Location"] + "/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    refused = client.post(
        f"/integrations/{integration.id}/sync",
        data={"csrf_token": token, "object_type": "tickets", "direction": "out"},
    )
    assert refused.status_code == 422 and "object_type" in refused.get_data(as_text=True)
    history = client.get(f"/integrations/{integration.id}/sync").get_data(as_text=True)
    assert "customers" in history and 'data-testid="sync-history"' in history
