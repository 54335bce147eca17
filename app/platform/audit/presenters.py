"""What the audit page shows of an entry: area, action, who, the record's page, each change."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.platform.audit.labels import (  # noqa: F401
    ACTION_LABELS,
    FIELD_LABELS,
    action_label,
    field_label,
    value_label,
)
from app.platform.audit.log import NOBODY, AuditFilter, actions, entries_page, people
from app.platform.audit.records import SECRET_CHANGED, SECRET_MARKERS, SECRET_REMOVED, SECRET_SET
from app.platform.extensions import db
from app.platform.models import (
    ApiToken,
    AuditLog,
    BusinessCalendar,
    CommunicationChannel,
    CommunicationTemplate,
    Contact,
    ContactMerge,
    ConversationMerge,
    InboundWebhookEvent,
    IntakeForm,
    Integration,
    Order,
    OrderDraft,
    Organization,
    OutlookMailbox,
    PartnerIntegration,
    PartnerSkuMapping,
    SlaPolicy,
    User,
    WebhookEndpoint,
)
from app.platform.models.enums import OrganizationType, TokenKind
from app.platform.ui import local_number

# Each table that audit entries are written for, by what an admin calls it.
AREAS: dict[str, Any] = {
    User.__tablename__: _l("Users"),
    ApiToken.__tablename__: _l("API keys"),
    Organization.__tablename__: _l("Partners"),
    PartnerIntegration.__tablename__: _l("Partner settings"),
    PartnerSkuMapping.__tablename__: _l("Partner SKU mappings"),
    Integration.__tablename__: _l("Integrations"),
    "integration_field_mappings": _l("Integration field mappings"),
    WebhookEndpoint.__tablename__: _l("Webhook endpoints"),
    InboundWebhookEvent.__tablename__: _l("Webhook events"),
    CommunicationTemplate.__tablename__: _l("Templates"),
    CommunicationChannel.__tablename__: _l("Channels"),
    OutlookMailbox.__tablename__: _l("Mailboxes"),
    SlaPolicy.__tablename__: _l("Service levels"),
    BusinessCalendar.__tablename__: _l("Business hours"),
    IntakeForm.__tablename__: _l("Intake forms"),
    Order.__tablename__: _l("Orders"),
    OrderDraft.__tablename__: _l("Order e-mails"),
    Contact.__tablename__: _l("Contacts"),
    ContactMerge.__tablename__: _l("Contact merges"),
    ConversationMerge.__tablename__: _l("Conversation merges"),
}

SECRET_NOTES = {
    SECRET_SET: _l("set (value not kept)"),
    SECRET_CHANGED: _l("changed (value not kept)"),
    SECRET_REMOVED: _l("removed"),
}
# A change with a longer value (a template body, a rules document) folds away behind "show".
LONG_VALUE = 160


def area_label(table_name: str) -> str:
    return str(AREAS.get(table_name, table_name))


# Words the log's identifiers spell in lower case that people write otherwise.
@dataclass(frozen=True)
class ChangeLine:
    """One field of an entry: ``old`` → ``new``, or a single ``value``, or a secret's ``note``."""

    field: str
    old: str | None = None
    new: str | None = None
    value: str | None = None
    note: str | None = None

    @property
    def is_long(self) -> bool:
        return any(len(text or "") > LONG_VALUE for text in (self.old, self.new, self.value))


def change_lines(changes: dict[str, Any] | None) -> list[ChangeLine]:
    lines = []
    for name, value in (changes or {}).items():
        label = field_label(name)
        if isinstance(value, str) and value in SECRET_MARKERS:
            lines.append(ChangeLine(label, note=str(SECRET_NOTES.get(value, _("hidden")))))
        elif isinstance(value, dict) and value and set(value) <= {"from", "to"}:
            lines.append(
                ChangeLine(
                    label,
                    old=show_value(value.get("from"), name),
                    new=show_value(value.get("to"), name),
                )
            )
        else:
            lines.append(ChangeLine(label, value=show_value(value, name)))
    return lines


# Words the log stores as values ("two_factor": "on"), in the reader's language.
STORED_WORDS: dict[str, Any] = {"on": _l("on"), "off": _l("off"), "ended": _l("ended")}


def show_value(value: Any, field: str | None = None) -> str:
    """A stored value of ``field`` for reading: "—" for nothing, yes/no, a code by its
    name ("nl" is "Nederlands"), fractions with the reader's decimal sign, lists joined,
    objects as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and field and (named := value_label(field, value)) is not None:
        return named
    if isinstance(value, str) and value in STORED_WORDS:
        return str(STORED_WORDS[value])
    if isinstance(value, float):  # a whole number stays as stored (ids, years, codes)
        return local_number(value, 0 if value.is_integer() else 2)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict) and all(
        isinstance(item, (str, int, float, bool)) for item in value.values()
    ):
        # Counts and small settings (an erasure's "addresses: 1, messages: 4") read as words.
        return ", ".join(
            f"{field_label(key)}: {show_value(item, key)}" for key, item in sorted(value.items())
        )
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# --- links to the record's own admin page --------------------------------------------


@dataclass(frozen=True)
class RecordPage:
    """Where a table's records are administered: the columns to read, and the URL from them."""

    model: Any
    columns: tuple[str, ...]
    url: Callable[[Any, AuditLog], str | None]


def _partner_page(anchor: str | None = None):
    def url(row, _entry):
        if row.partner_organization_id is None:
            return None
        return url_for("partners.show", partner_id=row.partner_organization_id, _anchor=anchor)

    return url


def _token_page(row, _entry) -> str | None:
    if row.kind == TokenKind.PARTNER and row.partner_organization_id:
        return url_for("partners.show", partner_id=row.partner_organization_id, _anchor="keys")
    return url_for("admin.users")


def _channel_page(row, entry: AuditLog) -> str:
    if "signature" in (entry.changes or {}):
        return url_for("channels_admin.index", _anchor="signatures")
    return url_for("assignment_admin.index", _anchor=f"channel-{row.id}")


def _user_page(row, entry: AuditLog) -> str:
    if "email_signature" in (entry.changes or {}):
        return url_for("signatures.edit", user_id=row.id)
    return url_for("admin.users")


RECORD_PAGES: dict[str, RecordPage] = {
    User.__tablename__: RecordPage(User, (), _user_page),
    ApiToken.__tablename__: RecordPage(ApiToken, ("kind", "partner_organization_id"), _token_page),
    Organization.__tablename__: RecordPage(
        Organization,
        ("organization_type",),
        lambda row, _e: (
            url_for("partners.show", partner_id=row.id)
            if row.organization_type == OrganizationType.PARTNER
            else None
        ),
    ),
    PartnerIntegration.__tablename__: RecordPage(
        PartnerIntegration, ("partner_organization_id",), _partner_page()
    ),
    PartnerSkuMapping.__tablename__: RecordPage(
        PartnerSkuMapping, ("partner_organization_id",), _partner_page("skus")
    ),
    Integration.__tablename__: RecordPage(
        Integration, (), lambda row, _e: url_for("integrations.show", integration_id=row.id)
    ),
    # Saved mappings are logged against their integration.
    "integration_field_mappings": RecordPage(
        Integration,
        (),
        lambda row, _e: url_for("integration_sync.edit_mappings", integration_id=row.id),
    ),
    WebhookEndpoint.__tablename__: RecordPage(
        WebhookEndpoint,
        (),
        lambda row, _e: url_for("integration_webhooks.show", endpoint_id=row.id),
    ),
    InboundWebhookEvent.__tablename__: RecordPage(
        InboundWebhookEvent, (), lambda row, _e: url_for("webhook_events.show", event_id=row.id)
    ),
    CommunicationTemplate.__tablename__: RecordPage(
        CommunicationTemplate,
        (),
        lambda row, _e: url_for("message_templates.edit", template_id=row.id),
    ),
    CommunicationChannel.__tablename__: RecordPage(CommunicationChannel, (), _channel_page),
    OutlookMailbox.__tablename__: RecordPage(
        OutlookMailbox, (), lambda _row, _e: url_for("outlook_mailboxes.index")
    ),
    SlaPolicy.__tablename__: RecordPage(
        SlaPolicy, (), lambda row, _e: url_for("sla_admin.index", _anchor=f"policy-{row.id}")
    ),
    BusinessCalendar.__tablename__: RecordPage(
        BusinessCalendar,
        (),
        lambda row, _e: url_for("sla_admin.index", _anchor=f"calendar-{row.id}"),
    ),
    IntakeForm.__tablename__: RecordPage(
        IntakeForm, (), lambda row, _e: url_for("intake_forms.edit", form_id=row.id)
    ),
    Order.__tablename__: RecordPage(
        Order, ("order_number",), lambda row, _e: url_for("orders.show", key=row.order_number)
    ),
    OrderDraft.__tablename__: RecordPage(
        OrderDraft, (), lambda row, _e: url_for("email_intake.show", draft_id=row.id)
    ),
    # The merge record, where a contact merge is undone within its day.
    ContactMerge.__tablename__: RecordPage(
        ContactMerge, (), lambda row, _e: url_for("merges.contact_merge", merge_id=row.id)
    ),
    ConversationMerge.__tablename__: RecordPage(
        ConversationMerge,
        ("kept_thread_id",),
        lambda row, _e: url_for("threads.show", thread_id=row.kept_thread_id),
    ),
}


def record_links(entries: Iterable[AuditLog]) -> dict[uuid.UUID, str]:
    """Entry id → the page of its record, for records that still exist and have one.

    One query per table on the page, reading only the columns the link needs.
    """
    by_table: dict[str, list[AuditLog]] = {}
    for entry in entries:
        if entry.record_id is not None and entry.table_name in RECORD_PAGES:
            by_table.setdefault(entry.table_name, []).append(entry)
    links: dict[uuid.UUID, str] = {}
    for table_name, table_entries in by_table.items():
        page = RECORD_PAGES[table_name]
        columns = [page.model.id, *(getattr(page.model, name) for name in page.columns)]
        ids = {entry.record_id for entry in table_entries}
        rows = {
            row.id: row
            for row in db.session.execute(sa.select(*columns).where(page.model.id.in_(ids)))
        }
        for entry in table_entries:
            row = rows.get(entry.record_id)
            url = page.url(row, entry) if row is not None else None
            if url:
                links[entry.id] = url
    return links


@dataclass(frozen=True)
class EntryView:
    """An entry as the page lists it."""

    entry: AuditLog
    who: str
    area: str
    action: str
    record_url: str | None
    changes: list[ChangeLine]


def entry_views(rows: list[tuple[AuditLog, str | None]]) -> list[EntryView]:
    links = record_links(entry for entry, _name in rows)
    return [
        EntryView(
            entry=entry,
            who=name or (_("Deleted user") if entry.changed_by_user_id else _("System")),
            area=area_label(entry.table_name),
            action=action_label(entry.action),
            record_url=links.get(entry.id),
            changes=change_lines(entry.changes),
        )
        for entry, name in rows
    ]


def audit_page(f: AuditFilter, errors: dict[str, str], args) -> dict[str, Any]:
    """Everything the audit page shows: the filter form's choices and, if it is valid, a page."""
    page = None if errors else entries_page(f, args.get("before"))
    return {
        "filter": f,
        "values": args if errors else f.query_args(),
        "errors": errors,
        "entries": entry_views(page.entries) if page else [],
        "next_before": page.next_before if page else None,
        "paged": bool(args.get("before")),
        "people": people(),
        "nobody": NOBODY,
        "areas": sorted(
            ((table, str(label)) for table, label in AREAS.items()), key=lambda a: a[1]
        ),
        "actions": [(action, action_label(action)) for action in actions(f.area)],
    }
