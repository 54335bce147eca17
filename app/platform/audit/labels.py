"""What the audit log's action and field identifiers mean, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from app.platform.labels import LABELS
from app.platform.ui import AVAILABILITY_LABELS, ROLE_LABELS

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
    "ROUTING_SETTINGS_SAVED": _l("Team suggestion settings saved"),
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
    "SANDBOX_WEBHOOK_SECRET_ROTATED": _l("Sandbox webhook secret renewed"),
    "SANDBOX_CALLBACKS_UPDATED": _l("Sandbox webhook changed"),
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
    "VISIT_MOVED_BY_CUSTOMER": _l("Visit moved by the customer on their page"),
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
    "density": _l("Layout density"),
    "sessions": _l("Sessions"),
    "recovery_codes": _l("Recovery codes"),
    "signature": _l("Signature"),
    "email_signature": _l("E-mail signature"),
    "calendar_mailbox": _l("Microsoft account (Outlook)"),
    "outlook_calendar": _l("Outlook calendar"),
    "auto_assignment_rules": _l("Assignment rules"),
    "auto_routing": _l("Route by team suggestion"),
    "threshold_percent": _l("Confidence threshold (percent)"),
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
    "sandbox_webhook_url": _l("Sandbox webhook URL"),
    "sandbox_webhook_events": _l("Sandbox webhook events"),
    "sandbox_webhook_secret": _l("Sandbox webhook secret"),
    "previous_sandbox_secret_expires_at": _l("Previous sandbox secret valid until"),
    "test_callbacks_to_live_url": _l("Test callbacks to the live URL"),
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
    # What a contact merge moved and an erasure removed, counted (app.conversations.merges,
    # app.conversations.gdpr).
    "threads": _l("Conversations"),
    "messages": _l("Messages"),
    "tasks": _l("Tasks"),
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
    # An order's status change (order_status_transitions).
    "reason": _l("Reason"),
    "partner_note": _l("Note for the partner"),
    "customer_notice": _l("Customer told by"),
}


# Values the log stores as codes, by field, as people call them; a value not listed
# is shown as stored.
VALUE_LABELS: dict[str, dict[str, Any]] = {
    # Named in the reader's language here (the preferences page names each in its own).
    "language": {"nl": _l("Dutch"), "en": _l("English")},
    "density": {"compact": _l("compact"), "comfortable": _l("comfortable")},
    "role": {role.value: label for role, label in ROLE_LABELS.items()},
    "availability": AVAILABILITY_LABELS,
    "from_status": LABELS["order"],
    "to_status": LABELS["order"],
}
# Fields whose value is a note the code wrote in English (an order's history): the
# feature that writes them registers how to read them (:func:`register_note_reader`).
NOTE_READERS: dict[str, Callable[[str], str]] = {}


def register_note_reader(field: str, reader: Callable[[str], str]) -> None:
    """Show the stored notes of ``field`` through ``reader`` (the reader's language)."""
    NOTE_READERS[field] = reader


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action) or _as_words(action))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name) or _as_words(name))


def value_label(name: str, value: str) -> str | None:
    """The stored code ``value`` of field ``name`` as people call it; None if not a code."""
    if (reader := NOTE_READERS.get(name)) is not None:
        readable = reader(value)
        return None if readable == value else readable
    label = VALUE_LABELS.get(name, {}).get(value)
    return None if label is None else str(label)
