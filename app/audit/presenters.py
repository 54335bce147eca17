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

from app.audit.log import NOBODY, AuditFilter, actions, entries_page, people
from app.audit.records import SECRET_CHANGED, SECRET_MARKERS, SECRET_REMOVED, SECRET_SET
from app.extensions import db
from app.models import (
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
from app.models.enums import OrganizationType, TokenKind

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
ACRONYMS = {
    "sla": "SLA",
    "api": "API",
    "sku": "SKU",
    "url": "URL",
    "id": "ID",
    "oauth": "OAuth",
    "gdpr": "GDPR",
    "csv": "CSV",
    "totp": "TOTP",
}


def _as_words(identifier: str) -> str:
    """``WEBHOOK_ENDPOINT_CREATED`` or ``api_key`` as "Webhook endpoint created", "API key"."""
    words = [ACRONYMS.get(word, word) for word in str(identifier).lower().split("_") if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# What the log's action identifiers mean, in the reader's language; an action
# not listed here (a new one) still reads as words made from its identifier.
ACTION_LABELS: dict[str, Any] = {
    "contact_merge": _l("Contacts merged"),
    "contact_merge_undone": _l("Contact merge undone"),
    "conversation_merge": _l("Conversations merged"),
    "USER_CREATED": _l("User created"),
    "API_TOKEN_ISSUED": _l("API key issued"),
    "API_TOKEN_ROTATED": _l("API token renewed"),
    "API_TOKEN_REVOKED": _l("API token revoked"),
    "password_changed": _l("Password changed"),
    "two_factor_enabled": _l("Two-factor sign-in turned on"),
    "two_factor_disabled": _l("Two-factor sign-in turned off"),
    "two_factor_reset": _l("Two-factor sign-in reset"),
    "recovery_codes_regenerated": _l("Recovery codes renewed"),
    "microsoft_account_bound": _l("Microsoft account linked"),
    "microsoft_account_unbound": _l("Microsoft account unlinked"),
    "language_changed": _l("Language changed"),
    "density_changed": _l("Layout density changed"),
    "SIGNATURE_SAVED": _l("Signature saved"),
    "MAILBOX_SIGNATURE_SAVED": _l("Mailbox signature saved"),
    "MAILBOX_ADDED": _l("Mailbox added"),
    "MAILBOX_CHANGED": _l("Mailbox changed"),
    "MAILBOX_ENABLED": _l("Mailbox enabled"),
    "MAILBOX_DISABLED": _l("Mailbox disabled"),
    "CALENDAR_SETTINGS_CHANGED": _l("Calendar settings changed"),
    "CALENDAR_FEED_ISSUED": _l("Calendar link made"),
    "CALENDAR_FEED_REVOKED": _l("Calendar link stopped"),
    "ASSIGNMENT_RULES_SAVED": _l("Assignment rules saved"),
    "CALENDAR_CREATED": _l("Calendar created"),
    "CALENDAR_UPDATED": _l("Calendar changed"),
    "CALENDAR_DELETED": _l("Calendar deleted"),
    "SLA_POLICY_CREATED": _l("Service level created"),
    "SLA_POLICY_UPDATED": _l("Service level changed"),
    "SLA_POLICY_DELETED": _l("Service level deleted"),
    "TEMPLATE_CREATED": _l("Template created"),
    "TEMPLATE_UPDATED": _l("Template changed"),
    "TEMPLATE_ACTIVATED": _l("Template activated"),
    "TEMPLATE_DEACTIVATED": _l("Template deactivated"),
    "INTAKE_FORM_UPDATED": _l("Intake form changed"),
    "INTEGRATION_CONFIG_UPDATED": _l("Integration settings changed"),
    "MAPPINGS_SAVED": _l("Field mappings saved"),
    "integration_created": _l("Integration added"),
    "integration_updated": _l("Integration settings changed"),
    "integration_deleted": _l("Integration deleted"),
    "integration_tested": _l("Connection tested"),
    "integration_oauth_connected": _l("Connected with OAuth"),
    "integration_oauth_failed": _l("OAuth connection failed"),
    "integration_token_refreshed": _l("Integration token refreshed"),
    "integration_error": _l("Integration error"),
    "PARTNER_CREATED": _l("Partner created"),
    "PARTNER_PARENT_CHANGED": _l("Parent partner changed"),
    "PARTNER_KEY_ISSUED": _l("Partner key issued"),
    "PARTNER_KEY_ROTATED": _l("Partner key renewed"),
    "PARTNER_KEY_REVOKED": _l("Partner key revoked"),
    "PARTNER_STATUS_UPDATE": _l("Status update from partner"),
    "PARTNER_STATUS_GRANTS_CHANGED": _l("Partner status reach changed"),
    "COMMISSION_RATES_CHANGED": _l("Commission rates changed"),
    "SKU_MAPPING_ADDED": _l("SKU mapping added"),
    "SKU_MAPPING_CHANGED": _l("SKU mapping changed"),
    "SKU_MAPPING_DELETED": _l("SKU mapping deleted"),
    "WEBHOOK_SECRET_ROTATED": _l("Webhook secret renewed"),
    "WEBHOOK_SECRET_OVERLAP_ENDED": _l("Previous webhook secret stopped"),
    "PARTNER_IP_ALLOWLIST_CHANGED": _l("Partner IP allow-list changed"),
    "WEBHOOK_REENABLED": _l("Webhook re-enabled"),
    "WEBHOOK_ENDPOINT_CREATED": _l("Webhook endpoint created"),
    "WEBHOOK_ENDPOINT_UPDATED": _l("Webhook endpoint changed"),
    "WEBHOOK_ENDPOINT_DELETED": _l("Webhook endpoint deleted"),
    "WEBHOOK_ENDPOINT_ENABLED": _l("Webhook endpoint enabled"),
    "WEBHOOK_ENDPOINT_DISABLED": _l("Webhook endpoint disabled"),
    "WEBHOOK_ENDPOINT_SECRET_ROTATED": _l("Webhook endpoint secret renewed"),
    "WEBHOOK_EVENT_RERUN": _l("Webhook event run again"),
    "STATUS_INITIAL": _l("First status"),
    "STATUS_CHANGE": _l("Status changed"),
    "PAYMENT_RECEIVED": _l("Payment received"),
    "VISIT_ON_THE_WAY": _l("Technician on the way"),
    "VISIT_PLANNED": _l("Visit planned"),
    "VISIT_CANCELLED": _l("Visit taken back"),
    "gdpr_export": _l("Personal data exported"),
    "gdpr_erase": _l("Personal data erased"),
}

# Field names in the logged changes, as people call them (others read as words).
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "email": _l("E-mail"),
    "role": _l("Role"),
    "team": _l("Team"),
    "team_id": _l("Team"),
    "availability": _l("Availability"),
    "skills": _l("Skills"),
    "max_open_threads": _l("Maximum open conversations"),
    "is_active": _l("Active"),
    "is_active_account": _l("Active"),
    "password": _l("Password"),
    "two_factor": _l("Two-factor"),
    "language": _l("Language"),
    "sessions": _l("Sessions"),
    "recovery_codes": _l("Recovery codes"),
    "signature": _l("Signature"),
    "email_signature": _l("E-mail signature"),
    "calendar_mailbox": _l("Microsoft account (Outlook)"),
    "outlook_calendar": _l("Outlook calendar"),
    "auto_assignment_rules": _l("Assignment rules"),
    "status": _l("Status"),
    "from_status": _l("Previous status"),
    "to_status": _l("New status"),
    "version": _l("Plan version"),
    "window": _l("Time window"),
    "technician_ids": _l("Technicians"),
    "priority": _l("Priority"),
    "description": _l("Description"),
    "display_name": _l("Name"),
    "channel_type": _l("Channel"),
    "field_mapping": _l("Question mapping"),
    "partner_organization_id": _l("Partner"),
    "webhook_url": _l("Webhook URL"),
    "webhook_secret": _l("Webhook secret"),
    "ip_allowlist": _l("IP allow-list"),
    "overlap_hours": _l("Overlap (hours)"),
    "previous_secret_expires_at": _l("Previous secret valid until"),
    "granted_statuses": _l("Statuses the partner may set"),
    "thread_id": _l("Conversation"),
    "order_number": _l("Order number"),
    "response_minutes": _l("Response minutes"),
    "resolution_minutes": _l("Resolution minutes"),
    "escalated": _l("Escalated"),
    "timezone": _l("Time zone"),
    "weekly_hours": _l("Weekly hours"),
    "holiday_country": _l("Holiday country"),
    "closed_dates": _l("Closed dates"),
    "is_default": _l("Default"),
    "address": _l("Address"),
    "api_key": _l("API key"),
    # An integration's settings (app.integrations.services logs its config as config.*).
    "config.base_url": _l("API base URL"),
    "config.dispatch_technician": _l("Dispatch technician"),
    "config.organization_id": _l("Salesforce organization ID"),
    "config.auth_style": _l("Send the credential as"),
    "config.auth_header": _l("Header name"),
    "config.realm_id": _l("Realm ID"),
    "config.portal_id": _l("Portal ID"),
    "config.account_id": _l("Account ID"),
    "sync_direction": _l("Sync direction"),
    "sync_frequency": _l("Frequency"),
    "batch_size": _l("Batch size"),
    "webhooks_enabled": _l("Receive the provider's webhooks"),
    # A webhook endpoint's settings (app.integrations.endpoints).
    "url": _l("URL"),
    "events": _l("Events"),
    "max_attempts": _l("Attempts"),
    "retry_base_seconds": _l("First retry after (seconds)"),
    "custom_header_names": _l("Custom headers"),
    # What a contact merge moved and an erasure removed, counted (app.merges, app.gdpr).
    "threads": _l("Conversations"),
    "messages": _l("Messages"),
    "filled": _l("Fields filled"),
    "identities": _l("Phone numbers and e-mail addresses"),
    "addresses": _l("Addresses"),
    "orders_as_customer": _l("Orders as customer"),
    "orders_as_account": _l("Orders as account"),
    "orders_as_partner_contact": _l("Orders as partner contact"),
    "form_submissions": _l("Submissions"),
    "feedback": _l("Ratings"),
    "contact": _l("Contact"),
    "organization": _l("Organization"),
    "erased": _l("Erased"),
    "kept_contact_id": _l("Kept contact"),
    "merged_contact_id": _l("Merged contact"),
    "kept_thread_id": _l("Kept conversation"),
    "merged_thread_id": _l("Merged conversation"),
    "contact_id": _l("Contact"),
    "moved": _l("Moved"),
    "moved_back": _l("Moved back"),
    "filled_fields": _l("Fields filled"),
    "emptied_fields": _l("Fields emptied"),
    "parent": _l("Parent partner"),
    "direction": _l("Direction"),
    "duration": _l("Duration"),
    "outcome": _l("Outcome"),
    "kind": _l("Kind"),
    "source": _l("Source"),
    "state": _l("State"),
    "since": _l("Since"),
    "user_id": _l("User"),
    "object_type": _l("Object"),
    "mappings": _l("Mappings"),
    "prefix": _l("Key"),
    "count": _l("Number"),
    "event_type": _l("Event"),
    "message_id": _l("Message"),
    "owner_id": _l("Owner"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action) or _as_words(action))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name) or _as_words(name))


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
                    label, old=show_value(value.get("from")), new=show_value(value.get("to"))
                )
            )
        else:
            lines.append(ChangeLine(label, value=show_value(value)))
    return lines


# Words the log stores as values ("two_factor": "on"), in the reader's language.
STORED_WORDS: dict[str, Any] = {"on": _l("on"), "off": _l("off")}


def show_value(value: Any) -> str:
    """A stored value for reading: "—" for nothing, yes/no, lists joined, objects as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and value in STORED_WORDS:
        return str(STORED_WORDS[value])
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict) and all(
        isinstance(item, (str, int, float, bool)) for item in value.values()
    ):
        # Counts and small settings (an erasure's "addresses: 1, messages: 4") read as words.
        return ", ".join(
            f"{field_label(key)}: {show_value(item)}" for key, item in sorted(value.items())
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
