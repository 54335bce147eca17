"""Field mappings: which of our fields becomes which of theirs, and back.

A mapping names a local field (``contact.email``), a remote dot path
(``PrimaryEmailAddr.Address``; a number segment indexes a list, as in
``Line.0.Amount``), a data type, whether it is required, the direction it
applies in, and a transform picked from
:data:`~app.integrations.sync.transforms.TRANSFORMS` — a fixed table of plain
functions. A mapping is data: no user-supplied code is ever evaluated.

This module reads and saves an integration's mappings, checks the editor's
rows and applies mappings to records. The value conversions live in
:mod:`app.integrations.sync.transforms`; the local fields and each provider's
defaults in :mod:`app.integrations.sync.mapping_defaults`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.integrations.sync.mapping_defaults import (
    KIND_MODELS,
    LINKED_FIELDS,
    MappingSpec,
    default_mappings,
    kind_of,
    local_field_names,
    local_values,
)
from app.integrations.sync.transforms import (
    INVERSE,
    TRANSFORMS,
    get_path,
    set_path,
    to_local_type,
    to_remote_type,
)
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import FieldMapping, Integration

DATA_TYPES = ("string", "number", "boolean", "date", "money")
DIRECTIONS = ("in", "out", "both")
REMOTE_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.([A-Za-z_][\w-]*|\d{1,3}))*$")


class MappingError(ValueError):
    """A record that cannot be mapped; ``fields`` maps field names to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))


# --- an integration's saved mappings ------------------------------------------------


def mappings_for(integration: Integration, object_type: str) -> list[MappingSpec]:
    """The saved mappings of ``object_type``, or the provider's defaults when none are saved."""
    rows = db.session.scalars(
        sa.select(FieldMapping)
        .where(
            FieldMapping.integration_id == integration.id,
            FieldMapping.object_type == object_type,
        )
        .order_by(FieldMapping.position)
    ).all()
    if not rows:
        return list(default_mappings(integration.provider, object_type))
    return [
        MappingSpec(
            r.local_field,
            r.remote_field,
            r.data_type,
            r.required,
            r.direction,
            r.transform or "none",
        )
        for r in rows
    ]


def has_saved_mappings(integration: Integration, object_type: str) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(FieldMapping.id)).where(
                FieldMapping.integration_id == integration.id,
                FieldMapping.object_type == object_type,
            )
        )
    )


# --- applying ---------------------------------------------------------------------


def build_outbound(specs: Iterable[MappingSpec], values: dict[str, Any]) -> dict:
    """Our field values → the provider's payload; MappingError naming every bad field."""
    payload: dict = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if not spec.applies("out"):
            continue
        if spec.local_field not in values:
            errors[spec.local_field] = "is not a field of this record"
            continue
        value = values[spec.local_field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.local_field] = "is required"
            continue
        try:
            value = to_remote_type(spec.data_type, TRANSFORMS[spec.transform](value))
        except (ValueError, KeyError) as exc:
            errors[spec.local_field] = str(exc) or "cannot be converted"
            continue
        set_path(payload, spec.remote_field, value)
    if errors:
        raise MappingError(errors)
    return payload


def build_inbound(
    specs: Iterable[MappingSpec], remote: dict, left_out: dict[str, str] | None = None
) -> dict[str, Any]:
    """A provider's record → our field values by local name; MappingError on bad fields.

    With ``left_out`` given, an optional field that cannot be converted (a
    HubSpot phone of "n/a") is left out and named there instead: one bad
    optional value should not keep a whole customer from syncing.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if not spec.applies("in"):
            continue
        value = get_path(remote, spec.remote_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.remote_field] = "is required"
            continue
        try:
            transform = TRANSFORMS[INVERSE.get(spec.transform, spec.transform)]
            values[spec.local_field] = to_local_type(spec.data_type, transform(value))
        except (ValueError, KeyError) as exc:
            problem = str(exc) or "cannot be converted"
            if left_out is not None and not spec.required:
                left_out[spec.remote_field] = f"{str(value)[:40]!r} {problem}"
            else:
                errors[spec.remote_field] = problem
    if errors:
        raise MappingError(errors)
    return values


# --- editing ----------------------------------------------------------------------


def validate_rows(object_type: str, rows: list[dict[str, Any]]) -> list[MappingSpec]:
    """Editor rows → specs; MappingError keyed ``rows-<i>-<field>`` for the form."""
    kind = kind_of(object_type)
    allowed = set(local_field_names(kind)) if kind else set()
    specs: list[MappingSpec] = []
    errors: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        local = str(row.get("local_field") or "").strip()
        remote = str(row.get("remote_field") or "").strip()
        if not local and not remote:
            continue  # an empty editor row
        key = f"rows-{i}"
        if local not in allowed:
            errors[f"{key}-local_field"] = _(
                "must be one of %(values)s", values=", ".join(sorted(allowed))
            )
        if not REMOTE_PATH.fullmatch(remote) or len(remote) > 255:
            errors[f"{key}-remote_field"] = _("must be a dot path like PrimaryEmailAddr.Address")
        data_type = str(row.get("data_type") or "string")
        if data_type not in DATA_TYPES:
            errors[f"{key}-data_type"] = _(
                "must be one of %(values)s", values=", ".join(DATA_TYPES)
            )
        direction = str(row.get("direction") or "both")
        if direction not in DIRECTIONS:
            errors[f"{key}-direction"] = _(
                "must be one of %(values)s", values=", ".join(DIRECTIONS)
            )
        transform = str(row.get("transform") or "none")
        if transform not in TRANSFORMS:
            errors[f"{key}-transform"] = _(
                "must be one of %(values)s", values=", ".join(TRANSFORMS)
            )
        if (local, remote) in seen:
            errors[f"{key}-remote_field"] = _("maps the same two fields as an earlier row")
        seen.add((local, remote))
        required = row.get("required") in (True, "on", "true", "1", "y")
        specs.append(MappingSpec(local, remote, data_type, required, direction, transform))
    if not specs and not errors:
        errors["rows"] = _("add at least one mapping")
    if errors:
        raise MappingError(errors)
    return specs


def save_mappings(
    integration: Integration, object_type: str, specs: list[MappingSpec], actor=None
) -> list[FieldMapping]:
    """Replace ``object_type``'s mappings with ``specs`` (no commit), audited."""
    before = [asdict(spec) for spec in mappings_for(integration, object_type)]
    db.session.execute(
        sa.delete(FieldMapping).where(
            FieldMapping.integration_id == integration.id,
            FieldMapping.object_type == object_type,
        )
    )
    rows = [
        FieldMapping(
            integration_id=integration.id,
            object_type=object_type,
            local_field=spec.local_field,
            remote_field=spec.remote_field,
            data_type=spec.data_type,
            required=spec.required,
            direction=spec.direction,
            transform=None if spec.transform == "none" else spec.transform,
            position=position,
        )
        for position, spec in enumerate(specs)
    ]
    db.session.add_all(rows)
    record_change(
        "integration_field_mappings",
        integration.id,
        "MAPPINGS_SAVED",
        {
            "object_type": object_type,
            "mappings": {"from": before, "to": [asdict(spec) for spec in specs]},
        },
        user_id=actor.id if actor else None,
    )
    db.session.flush()
    return rows


# --- "test mapping" -----------------------------------------------------------------


def preview(integration: Integration, object_type: str, specs: list[MappingSpec]) -> dict:
    """What ``specs`` make of the latest local record of this kind; nothing is sent.

    Linked remote ids (an invoice's customer) are shown as placeholders: they
    are only known once the linked record is synced.
    """
    kind = kind_of(object_type)
    model = KIND_MODELS[kind]
    record = db.session.scalars(
        sa.select(model).order_by(model.created_at.desc(), model.id.desc()).limit(1)
    ).first()
    if record is None:
        return {"payload": None, "record": None, "errors": {"record": f"there is no {kind} yet"}}
    linked = {name: f"<{name.split('.', 1)[1]}>" for name in LINKED_FIELDS.get(kind, ())}
    label = getattr(record, "display_name", None) or getattr(record, "order_number", None)
    described = f"{kind} {label or record.id}"
    try:
        payload = build_outbound(specs, local_values(kind, record, linked))
    except MappingError as exc:
        return {"payload": None, "record": described, "errors": exc.fields}
    return {"payload": payload, "record": described, "errors": {}}
