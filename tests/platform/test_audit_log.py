"""The audit log: every admin change, who made it, what changed, never a secret.

Each admin area's change is made through its real route, as an admin, and
must leave one entry naming the admin, the client address and the fields
that changed (before → after); the /admin/audit page lists and filters them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.conversations.sla.editing import calendar_form_values, policy_form_values
from app.integrations import oauth
from app.orders.partners.services import create_partner
from app.platform.audit.records import field_changes, record_change, redact
from app.platform.auth.services import create_user
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationChannel,
    InboundWebhookEvent,
    IntakeForm,
    Integration,
    User,
    WebhookEndpoint,
)
from app.platform.models.enums import ChannelType, ProcessingState, TemplateChannelType
from app.platform.models.sla import BusinessCalendar, SlaPolicy
from app.platform.ui import DISPLAY_ZONE
from tests.support import factories
from tests.support.helpers import PASSWORD

PAGE = "/admin/audit"


@pytest.fixture
def admin(make_user, auth):
    user = make_user("admin", email="admin@switchboard.test")
    auth.login(user.email)
    return user


@dataclass
class Expected:
    """What one admin change must leave in the log."""

    table: str
    action: str
    record_id: uuid.UUID
    changes: dict[str, Any]
    # Values that must appear in no entry's changes.
    secrets: tuple[str, ...] = ()
    absent: tuple[str, ...] = field(default=())  # fields that did not change


def _form(values: dict) -> dict:
    """Form values as a browser posts them: ticked boxes as "1", unticked ones left out."""
    posted: dict = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                posted[name] = "1"
        else:
            posted[name] = value
    return posted


def _shown(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]+)<', html)
    assert match, f"no {testid} on the page"
    return match.group(1)


# --- one change per admin area, through its real route -----------------------------


def change_sla_policy(client, csrf) -> Expected:
    client.get("/admin/sla/")  # stores the default policies
    policy = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.name)).first()
    values = policy_form_values(policy)
    before = int(values["response_minutes"])
    values["response_minutes"] = str(before + 15)
    answer = client.post(
        f"/admin/sla/policies/{policy.id}", data={**_form(values), "csrf_token": csrf}
    )
    assert answer.status_code == 303
    return Expected(
        "sla_policies",
        "SLA_POLICY_UPDATED",
        policy.id,
        {"response_minutes": {"from": before, "to": before + 15}},
        absent=("name", "is_active"),
    )


def change_business_hours(client, csrf) -> Expected:
    client.get("/admin/sla/")  # stores the default calendar
    calendar = db.session.scalar(sa.select(BusinessCalendar))
    old_friday = list(calendar.weekly_hours["fri"])
    values = calendar_form_values(calendar)
    values["hours_fri"] = "08:00-15:00"
    answer = client.post(
        f"/admin/sla/calendars/{calendar.id}", data={**_form(values), "csrf_token": csrf}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    calendar = db.session.get(BusinessCalendar, calendar.id)
    return Expected(
        "business_calendars",
        "CALENDAR_UPDATED",
        calendar.id,
        {
            "weekly_hours": {
                "from": {**calendar.weekly_hours, "fri": old_friday},
                "to": calendar.weekly_hours,
            }
        },
        absent=("name", "timezone", "is_default"),
    )


def change_assignment_rules(client, csrf) -> Expected:
    factories.team("Sales")
    channel = factories.channel()
    db.session.commit()
    rules = {"default": {"default_assignee": "Sales"}}
    answer = client.post(
        f"/admin/assignment/{channel.id}", data={"rules": json.dumps(rules), "csrf_token": csrf}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    stored = db.session.get(CommunicationChannel, channel.id).auto_assignment_rules
    return Expected(
        "communication_channel",
        "ASSIGNMENT_RULES_SAVED",
        channel.id,
        {"auto_assignment_rules": {"from": {}, "to": stored}},
    )


TEMPLATE_FORM = {
    "template_name": "planning_bevestigd",
    "display_name": "Planning confirmed",
    "description": "",
    "template_category": "customer_service",
    "channel_type": "whatsapp_business",
    "business_entity": "chargecars",
    "language": "nl",
    "subject_template": "",
    "message_template": "Hoi {{customer_first_name}}, we komen op {{installation_date}}.",
    "html_template": "",
    "variables": "",
    "is_active": "y",
}


def change_template(client, csrf) -> Expected:
    template = factories.template(
        "Hoi {{customer_first_name}}, we bellen je.",
        template_name="planning_bevestigd",
        display_name="Planning confirmed",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        language="nl",
    )
    db.session.commit()
    answer = client.post(
        f"/admin/templates/{template.id}/edit", data={**TEMPLATE_FORM, "csrf_token": csrf}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return Expected(
        "communication_template",
        "TEMPLATE_UPDATED",
        template.id,
        {
            "message_template": {
                "from": "Hoi {{customer_first_name}}, we bellen je.",
                "to": TEMPLATE_FORM["message_template"],
            }
        },
        absent=("template_name", "display_name", "is_active"),
    )


def change_mailbox_signature(client, csrf) -> Expected:
    mailbox = factories.channel(ChannelType.EMAIL_OUTLOOK, configuration={})
    db.session.commit()
    answer = client.post(
        f"/admin/channels/{mailbox.id}/signature",
        data={"signature": "Met vriendelijke groet,\nChargeCars", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    return Expected(
        "communication_channel",
        "MAILBOX_SIGNATURE_SAVED",
        mailbox.id,
        {"signature": {"from": None, "to": "Met vriendelijke groet,\nChargeCars"}},
    )


def change_agents_signature(client, csrf) -> Expected:
    agent = create_user("anna@switchboard.test", "Anna", "agent", PASSWORD, email_signature="Anna")
    db.session.commit()
    answer = client.post(
        f"/settings/signature/{agent.id}",
        data={"signature": "Anna de Vries\nKlantenservice", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    return Expected(
        "users",
        "SIGNATURE_SAVED",
        agent.id,
        {"email_signature": {"from": "Anna", "to": "Anna de Vries\nKlantenservice"}},
    )


def change_intake_form(client, csrf) -> Expected:
    form = IntakeForm(external_form_id="vMqcXq2Rfzus", name="Intake", field_mapping={})
    db.session.add(form)
    db.session.commit()
    answer = client.post(
        f"/admin/intake-forms/{form.id}",
        data={"name": "Eneco intake", "field_mapping": "{}", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    return Expected(
        "intake_forms",
        "INTAKE_FORM_UPDATED",
        form.id,
        {
            "name": {"from": "Intake", "to": "Eneco intake"},
            "is_active": {"from": True, "to": False},
        },
        absent=("field_mapping", "partner"),
    )


def rerun_webhook_event(client, csrf) -> Expected:
    event = InboundWebhookEvent(
        source="audit-test",
        dedupe_key="evt-1",
        raw_body=b"{}",
        processing_state=ProcessingState.FAILED,
        last_error="ValidationError: email input_value='marieke@voorbeeld.nl'",
    )
    db.session.add(event)
    db.session.commit()
    answer = client.post(f"/admin/events/{event.id}/rerun", data={"csrf_token": csrf})
    assert answer.status_code == 303
    return Expected(
        "inbound_webhook_events",
        "WEBHOOK_EVENT_RERUN",
        event.id,
        {
            "processing_state": {"from": "failed", "to": "received"},
            "last_error": "removed",  # not the text: it quotes the customer
        },
        secrets=("marieke",),
    )


def change_partner_settings(client, csrf) -> Expected:
    partner = create_partner("Groendus")
    db.session.commit()
    settings = {
        "integration_name": partner.integration.integration_name,
        "api_base_url": "",
        "api_version": "",
        "authentication_type": "api_key",
        "sync_frequency": "real_time",
        "rate_limit_per_minute": "60",
        "max_delivery_attempts": str(partner.integration.max_delivery_attempts),
        "alert_email": "",
        "order_email_address": "",
        "is_active": "on",
        "sync_enabled": "on",
    }
    answer = client.post(
        f"/partners/{partner.organization.id}/settings", data={**settings, "csrf_token": csrf}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return Expected(
        "partner_integrations",
        "INTEGRATION_CONFIG_UPDATED",
        partner.integration.id,
        {"rate_limit_per_minute": {"from": 120, "to": 60}},
        secrets=(partner.webhook_secret, partner.api_key),
        absent=("integration_name", "is_active"),
    )


def issue_partner_key(client, csrf) -> Expected:
    partner = create_partner("Essent")
    db.session.commit()
    answer = client.post(
        f"/partners/{partner.organization.id}/keys", data={"name": "ERP", "csrf_token": csrf}
    )
    assert answer.status_code == 201
    key = _shown(answer.get_data(as_text=True), "new-api-key")
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "PARTNER_KEY_ISSUED"))
    return Expected(
        "api_tokens", "PARTNER_KEY_ISSUED", entry.record_id, {"name": "ERP"}, secrets=(key,)
    )


def rotate_partner_webhook_secret(client, csrf) -> Expected:
    partner = create_partner("Eneco")
    db.session.commit()
    answer = client.post(
        f"/partners/{partner.organization.id}/webhook/secret", data={"csrf_token": csrf}
    )
    assert answer.status_code == 201
    secret = _shown(answer.get_data(as_text=True), "new-webhook-secret")
    return Expected(
        "partner_integrations",
        "WEBHOOK_SECRET_ROTATED",
        partner.integration.id,
        {"webhook_secret": "changed"},
        secrets=(secret, partner.webhook_secret),
    )


def create_partner_on_the_page(client, csrf) -> Expected:
    answer = client.post("/partners/", data={"name": "Alva", "webhook_url": "", "csrf_token": csrf})
    assert answer.status_code == 201
    html = answer.get_data(as_text=True)
    key, secret = _shown(html, "new-api-key"), _shown(html, "new-webhook-secret")
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "PARTNER_CREATED"))
    return Expected(
        "organizations",
        "PARTNER_CREATED",
        entry.record_id,
        {"name": {"from": None, "to": "Alva"}, "api_key": "set", "webhook_secret": "set"},
        secrets=(key, secret),
    )


OLD_STRIPE_KEY = "sk_live_" + "a" * 24
NEW_STRIPE_KEY = "sk_live_" + "b" * 24


def change_integration_key(client, csrf) -> Expected:
    created = client.post(
        "/integrations/",
        data={
            "provider": "stripe",
            "name": "Stripe live",
            "api_key": OLD_STRIPE_KEY,
            "sync_direction": "two_way",
            "sync_frequency": "real_time",
            "batch_size": "50",
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 303
    integration = db.session.scalar(sa.select(Integration))
    answer = client.post(
        f"/integrations/{integration.id}",
        data={
            "form": "settings",
            "name": "Stripe NL",
            "api_key": NEW_STRIPE_KEY,
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert oauth.access_token(db.session.get(Integration, integration.id)) == NEW_STRIPE_KEY
    return Expected(
        "integrations",
        "integration_updated",
        integration.id,
        {"name": {"from": "Stripe live", "to": "Stripe NL"}, "api_key": "changed"},
        secrets=(OLD_STRIPE_KEY, NEW_STRIPE_KEY),
    )


def change_webhook_endpoint(client, csrf) -> Expected:
    form = {
        "url": "http://127.0.0.1:9/hook",
        "description": "ERP",
        "events": ["invoice.paid"],
        "max_attempts": "4",
        "csrf_token": csrf,
    }
    created = client.post(
        "/integrations/webhooks/", data={**form, "custom_headers": "Authorization: Bearer tok-one"}
    )
    assert created.status_code == 201
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    answer = client.post(
        f"/integrations/webhooks/{endpoint.id}",
        data={**form, "max_attempts": "2", "custom_headers": "Authorization: Bearer tok-two"},
    )
    assert answer.status_code == 303
    return Expected(
        "webhook_endpoints",
        "WEBHOOK_ENDPOINT_UPDATED",
        endpoint.id,
        {"max_attempts": {"from": 4, "to": 2}, "custom_headers": "changed"},
        secrets=("tok-one", "tok-two", endpoint.secret),
        absent=("url", "custom_header_names"),
    )


ADMIN_CHANGES = [
    pytest.param(change_sla_policy, id="sla-policy"),
    pytest.param(change_business_hours, id="business-hours"),
    pytest.param(change_assignment_rules, id="assignment-rules"),
    pytest.param(change_template, id="template"),
    pytest.param(change_mailbox_signature, id="mailbox-signature"),
    pytest.param(change_agents_signature, id="agent-signature"),
    pytest.param(change_intake_form, id="intake-form"),
    pytest.param(rerun_webhook_event, id="webhook-event"),
    pytest.param(change_partner_settings, id="partner-settings"),
    pytest.param(issue_partner_key, id="partner-key"),
    pytest.param(rotate_partner_webhook_secret, id="partner-webhook-secret"),
    pytest.param(create_partner_on_the_page, id="partner-created"),
    pytest.param(change_integration_key, id="integration"),
    pytest.param(change_webhook_endpoint, id="webhook-endpoint"),
]


@pytest.mark.parametrize("make_change", ADMIN_CHANGES)
def test_each_admin_change_is_logged_with_who_where_and_the_fields_that_changed(
    client, auth, admin, make_change
):
    expected = make_change(client, auth.csrf_token(PAGE))

    db.session.expire_all()
    (entry,) = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.table_name == expected.table,
            AuditLog.action == expected.action,
            AuditLog.record_id == expected.record_id,
        )
    ).all()
    assert entry.changed_by_user_id == admin.id
    assert entry.ip_address == "127.0.0.1"
    for name, change in expected.changes.items():
        assert entry.changes[name] == change, name
    for name in expected.absent:
        assert name not in entry.changes, f"{name} did not change but is logged"
    stored = json.dumps([e.changes for e in db.session.scalars(sa.select(AuditLog))])
    for secret in expected.secrets:
        assert secret and secret not in stored

    # The page shows the entry, with who made it, to an admin filtering by its record.
    page = client.get(PAGE, query_string={"record": str(expected.record_id)})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-action="{expected.action}"' in html
    assert admin.name in html and "127.0.0.1" in html
    for secret in expected.secrets:
        assert secret not in html


def test_user_commands_are_logged_without_the_password_or_token(app, runner):
    created = runner.invoke(
        args=[
            "users",
            "create",
            "lisa@switchboard.test",
            "--name",
            "Lisa",
            "--role",
            "manager",
            "--password",
            "hunter2-but-longer",
        ]
    )
    assert created.exit_code == 0, created.output
    issued = runner.invoke(args=["users", "token", "lisa@switchboard.test"])
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.output)["token"]

    user = db.session.scalar(sa.select(User).where(User.email == "lisa@switchboard.test"))
    entries = {
        e.action: e for e in db.session.scalars(sa.select(AuditLog).order_by(AuditLog.created_at))
    }
    made = entries["USER_CREATED"]
    assert (made.table_name, made.record_id) == ("users", user.id)
    assert made.changes["role"] == {"from": None, "to": "manager"}
    assert made.changes["email"] == {"from": None, "to": "lisa@switchboard.test"}
    assert made.changes["password"] == "set"
    assert made.changed_by_user_id is None and made.ip_address is None  # nobody signed in
    assert entries["API_TOKEN_ISSUED"].changes["user"] == "lisa@switchboard.test"
    stored = json.dumps([e.changes for e in entries.values()])
    assert "hunter2-but-longer" not in stored and token not in stored


# --- the page ---------------------------------------------------------------------


def test_only_admins_see_the_audit_log(client, auth, make_user):
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    for role in ("agent", "team_lead", "manager", "technician"):
        user = make_user(role)
        auth.login(user.email)
        assert client.get(PAGE).status_code == 403, role
        auth.logout()
    auth.login(make_user("admin").email)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert f'href="{PAGE}"' in inbox  # in the admin's navigation


def _entry(table, action, changes, *, user=None, ago=timedelta(0), record_id=None):
    entry = record_change(
        table, record_id or uuid.uuid4(), action, changes, user_id=user.id if user else None
    )
    entry.created_at = utcnow() - ago
    return entry


def test_the_page_shows_each_change_readably_newest_first(client, auth, admin):
    csrf = auth.csrf_token(PAGE)
    change_sla_policy(client, csrf)
    change_mailbox_signature(client, csrf)

    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    actions = re.findall(r'data-action="([A-Z_a-z]+)"', html)
    assert actions == ["MAILBOX_SIGNATURE_SAVED", "SLA_POLICY_UPDATED"]  # newest first
    policy_entry = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "SLA_POLICY_UPDATED")
    )
    old = policy_entry.changes["response_minutes"]["from"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert f"Response minutes: {old} → {old + 15}" in text
    assert "Signature: — → Met vriendelijke groet," in text
    assert "Service levels" in text and "Channels" in text  # the areas, by name
    local = policy_entry.created_at.astimezone(DISPLAY_ZONE).strftime("%d %b %Y %H:%M:%S")
    assert local in html  # Amsterdam time
    # The record's own admin page is linked.
    assert f'href="/admin/sla/#policy-{policy_entry.record_id}"' in html
    assert 'href="/admin/channels/#signatures"' in html


def test_filters_narrow_the_list_and_survive_in_the_url(client, auth, admin, make_user):
    other = make_user("admin", email="other-admin@switchboard.test")
    order_id = uuid.uuid4()
    _entry("sla_policies", "SLA_POLICY_UPDATED", {"name": {"from": "a", "to": "b"}}, user=admin)
    _entry("communication_channel", "MAILBOX_SIGNATURE_SAVED", {}, user=other)
    _entry("orders", "STATUS_CHANGE", {}, ago=timedelta(days=10), record_id=order_id)
    db.session.commit()

    def shown(**query) -> list[str]:
        answer = client.get(PAGE, query_string=query)
        assert answer.status_code == 200
        return re.findall(r'data-action="([A-Z_]+)"', answer.get_data(as_text=True))

    assert len(shown()) == 3
    assert shown(user=str(admin.id)) == ["SLA_POLICY_UPDATED"]
    assert shown(user="system") == ["STATUS_CHANGE"]
    assert shown(area="communication_channel") == ["MAILBOX_SIGNATURE_SAVED"]
    assert shown(action="STATUS_CHANGE") == ["STATUS_CHANGE"]
    assert shown(record=str(order_id)) == ["STATUS_CHANGE"]
    today = utcnow().astimezone(DISPLAY_ZONE).date()
    ten_days_ago = today - timedelta(days=10)
    assert shown(**{"from": ten_days_ago.isoformat(), "to": ten_days_ago.isoformat()}) == [
        "STATUS_CHANGE"
    ]
    assert sorted(shown(**{"from": today.isoformat()})) == [
        "MAILBOX_SIGNATURE_SAVED",
        "SLA_POLICY_UPDATED",
    ]
    assert shown(user=str(other.id), area="sla_policies") == []
    # The form keeps what was chosen, so the URL can be shared and reopened.
    html = client.get(PAGE, query_string={"area": "orders"}).get_data(as_text=True)
    assert '<option value="orders" selected>' in html


def test_a_bad_filter_is_refused_naming_the_field(client, auth, admin):
    bad_record = client.get(PAGE, query_string={"record": "CC-2026-00001"})
    assert bad_record.status_code == 400
    assert 'id="e-record"' in bad_record.get_data(as_text=True)
    bad_dates = client.get(PAGE, query_string={"from": "2026-11-30", "to": "2026-11-01"})
    assert bad_dates.status_code == 400
    assert 'id="e-to"' in bad_dates.get_data(as_text=True)
    assert client.get(PAGE, query_string={"from": "30-11-2026"}).status_code == 400
    assert client.get(PAGE, query_string={"user": "someone"}).status_code == 400


def test_pages_of_fifty_newest_first(client, auth, admin):
    for n in range(55):
        _entry("sla_policies", f"ACTION_{n:02d}", {}, ago=timedelta(minutes=n))
    db.session.commit()
    first = client.get(PAGE).get_data(as_text=True)
    actions = re.findall(r'data-action="(ACTION_\d+)"', first)
    assert actions == [f"ACTION_{n:02d}" for n in range(50)]
    older = re.search(r'href="([^"]+)" data-testid="older"', first).group(1)
    second = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'data-action="(ACTION_\d+)"', second) == [
        f"ACTION_{n:02d}" for n in range(50, 55)
    ]
    assert 'data-testid="older"' not in second


# --- the helpers ------------------------------------------------------------------


def test_field_changes_keeps_only_what_changed_and_never_a_secret_value():
    before = {"name": "Stripe", "batch_size": 50, "api_key": "sk_old", "note": None, "tags": []}
    after = {"name": "Stripe NL", "batch_size": 50, "api_key": "sk_new", "note": "", "tags": []}
    assert field_changes(before, after) == {
        "name": {"from": "Stripe", "to": "Stripe NL"},
        "api_key": "changed",
    }
    assert field_changes({}, {"webhook_secret": "whsec_x", "name": "Eneco"}) == {
        "webhook_secret": "set",
        "name": {"from": None, "to": "Eneco"},
    }
    assert field_changes({"password": "x"}, {}) == {"password": "removed"}
    # A field whose name does not say "secret" can be declared one.
    assert field_changes({"headers": {"A": "1"}}, {"headers": {"A": "2"}}, secret=["headers"]) == {
        "headers": "changed"
    }
    # Facts about a secret are kept; the secret itself never is.
    assert redact(
        {"token_expires_at": "2026-11-24", "access_token": "abc", "totp_enabled": True}
    ) == {
        "token_expires_at": "2026-11-24",
        "access_token": "[redacted]",
        "totp_enabled": True,
    }


def test_a_url_keeps_where_it_points_but_not_the_credential_in_its_query():
    changes = field_changes(
        {"webhook_url": "https://eneco.example/callbacks"},
        {"webhook_url": "https://eneco.example/callbacks?token=s3cr3t&v=2"},
    )
    stored = json.dumps(redact(changes))
    assert "s3cr3t" not in stored
    assert redact(changes) == {
        "webhook_url": {
            "from": "https://eneco.example/callbacks",
            "to": "https://eneco.example/callbacks?[redacted]",
        }
    }
