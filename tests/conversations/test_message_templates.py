"""Message templates: rendering for a thread, usage counting, admin pages, API, preview."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.conversations.message_templates.rendering import (
    TemplateRenderError,
    placeholders_in,
    render_for_thread,
    render_text,
    variables_for_thread,
)
from app.conversations.message_templates.routes import preview_bp
from app.conversations.message_templates.services import (
    TemplateValidationError,
    clean_template_data,
    create_template,
    record_use,
    record_use_soon,
    templates_for_channel,
)
from app.platform.extensions import db
from app.platform.jobs import coalescing
from app.platform.models import Address, CommunicationTemplate, Order, Team
from app.platform.models.enums import OrderStatus, TemplateCategory, TemplateChannelType
from tests.support import factories
from tests.support.helpers import csrf_token_from


@pytest.fixture(autouse=True)
def _preview_blueprint(app):
    """Until create_app registers it, register the composer's preview here."""
    if "template_preview" not in app.blueprints:
        app.register_blueprint(preview_bp)


def make_template(name="order_update", body="Beste {{customer_name}}", **fields):
    template = CommunicationTemplate(
        template_name=name,
        template_category=fields.pop("template_category", TemplateCategory.CUSTOMER_SERVICE),
        channel_type=fields.pop("channel_type", TemplateChannelType.ANY),
        message_template=body,
        variables=fields.pop("variables", placeholders_in(body, fields.get("subject_template"))),
        **fields,
    )
    db.session.add(template)
    db.session.flush()
    return template


def order_thread(**thread_fields):
    """A WhatsApp thread with Jan de Vries about order CC-2026-00001."""
    address = Address(
        street="Stationsstraat", house_number="12", postal_code="3511 AB", city="Utrecht"
    )
    db.session.add(address)
    db.session.flush()
    order = Order(
        order_number="CC-2026-00001",
        status=OrderStatus.SCHEDULED,
        scheduled_date=date(2026, 5, 14),
        installation_address_id=address.id,
    )
    db.session.add(order)
    db.session.flush()
    contact = factories.contact(
        display_name="Jan de Vries", first_name="Jan", email="jan@example.nl", phone="+31612345678"
    )
    return factories.thread(
        factories.channel(),
        contact,
        order_id=order.id,
        thread_subject="Planning laadpaal",
        **thread_fields,
    )


def sign_in(auth, make_user, role="admin", **fields):
    user = make_user(role, email=f"{role}-tpl@switchboard.test", **fields)
    auth.login(user.email)
    return user


# --- rendering ---------------------------------------------------------------


def test_render_fills_contact_order_and_agent(app, make_user):
    agent = make_user("agent")
    thread = order_thread()
    template = make_template(
        subject_template="Installatie {{order_id}}",
        body=(
            "Beste {{ customer_first_name }}, order {{order_id}} ({{order_status}}) wordt op "
            "{{installation_date}} geplaatst op {{installation_address}}. {{agent_name}}, "
            "{{company_name}} – {{thread_subject}} – {{customer_email}} {{customer_phone}}"
        ),
        html_template="<p>Beste {{customer_name}}</p>",
    )
    rendered = render_for_thread(template, thread, agent)
    assert rendered.subject == "Installatie CC-2026-00001"
    assert rendered.body == (
        "Beste Jan, order CC-2026-00001 (Ingepland) wordt op 14-05-2026 geplaatst op "
        "Stationsstraat 12, 3511 AB Utrecht. Test agent, ChargeCars – Planning laadpaal – "
        "jan@example.nl +31612345678"
    )
    assert rendered.html == "<p>Beste Jan de Vries</p>"
    values = variables_for_thread(thread, agent)
    assert values["customer_name"] == "Jan de Vries"
    assert values["order_id"] == "CC-2026-00001"


NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "total"),
    [("nl", f"€{NBSP}1.234,50"), ("en", "€1,234.50"), ("en-GB", "€1,234.50")],
)
def test_order_total_is_written_as_the_recipient_writes_money(app, language, total):
    """The template's language is its recipient's: a Dutch customer reads "€ 1.234,50"
    exactly as the order page writes it (Babel, a no-break space after the sign)."""
    thread = order_thread()
    thread.order.total_amount = Decimal("1234.50")
    template = make_template(body="Totaal {{order_total}}.", language=language)
    assert render_for_thread(template, thread).body == f"Totaal {total}."
    assert variables_for_thread(thread, language=language)["order_total"] == total


@pytest.mark.parametrize(("language", "words"), [("nl", "ochtend"), ("en", "morning")])
def test_a_part_of_day_asked_for_is_written_in_the_recipients_words(app, language, words):
    """Before a visit is planned, {{visit_time}} is the part of day the customer asked
    for, which the partner API sends as "morning": a Dutch customer reads "ochtend"."""
    thread = order_thread()
    thread.order.installation_preferences = {"time_preference": "morning"}
    template = make_template(body="Voorkeur: {{visit_time}}.", language=language)
    assert render_for_thread(template, thread).body == f"Voorkeur: {words}."


def test_unknown_placeholder_is_refused_by_name(app):
    template = make_template(body="Hoi {{customer_name}}, {{foo}}", variables=["customer_name"])
    with pytest.raises(TemplateRenderError) as caught:
        render_for_thread(template, order_thread())
    assert "Unknown placeholder {{foo}}" in caught.value.message
    assert caught.value.fields == {"variables.foo": "unknown placeholder"}


def test_missing_order_value_is_refused_and_overrides_fill_it(app):
    thread = factories.thread(factories.channel(), factories.contact(display_name="Piet"))
    template = make_template(
        body="Order {{order_id}} voor {{customer_name}}: {{response_date}}",
        variables=["order_id", "customer_name", "response_date"],
    )
    with pytest.raises(TemplateRenderError) as caught:
        render_for_thread(template, thread)
    assert caught.value.fields == {
        "variables.order_id": "this thread has no linked order",
        "variables.response_date": "fill in a value",
    }
    # Each missing value is named by its human name, once.
    assert caught.value.message == "Fill in: Order number, Reply by (date)."
    assert caught.value.missing == ["Order number", "Reply by (date)"]
    # Blank overrides do not count as a value.
    with pytest.raises(TemplateRenderError) as caught:
        render_for_thread(
            template, thread, overrides={"order_id": " ", "response_date": "vrijdag"}
        )
    assert caught.value.message == "Fill in: Order number."
    rendered = render_for_thread(
        template, thread, overrides={"order_id": "CC-2026-00077", "response_date": "vrijdag"}
    )
    assert rendered.body == "Order CC-2026-00077 voor Piet: vrijdag"


def test_template_text_is_never_evaluated(app):
    thread = order_thread()
    assert render_text("{{ 7*7 }} {{config}} {% if 1 %}x{% endif %}", {}) == (
        "{{ 7*7 }} {{config}} {% if 1 %}x{% endif %}"
    )
    for body in ("Uitkomst: {{ 7*7 }}", "{{config}}", "{{ customer_name.__class__ }}"):
        template = make_template(name=f"t{abs(hash(body))}", body=body, variables=[])
        with pytest.raises(TemplateRenderError) as caught:
            render_for_thread(template, thread)
        assert "49" not in caught.value.message
        assert "SECRET" not in caught.value.message
    # A value that looks like a placeholder or markup is inserted as text, once.
    template = make_template(
        name="html", body="{{customer_name}}", html_template="<p>{{customer_name}}</p>"
    )
    rendered = render_for_thread(
        template, thread, overrides={"customer_name": "<b>{{order_id}}</b>"}
    )
    assert rendered.body == "<b>{{order_id}}</b>"
    assert rendered.html == "<p>&lt;b&gt;{{order_id}}&lt;/b&gt;</p>"


# --- services ----------------------------------------------------------------


def test_an_automatic_answers_uses_in_a_batch_are_counted_together_after_it(app):
    """Each out-of-hours answer updated the one template row in its own transaction;
    the workers answering a burst waited for each other on that row."""
    template = make_template(usage_count=5)
    db.session.commit()
    template_id = template.id
    with coalescing.held():
        for _ in range(3):
            record_use_soon(template_id)
            db.session.commit()
        db.session.expire_all()
        assert db.session.get(CommunicationTemplate, template_id).usage_count == 5
    db.session.expire_all()
    assert db.session.get(CommunicationTemplate, template_id).usage_count == 8
    record_use_soon(template_id)  # outside a batch: at once, in the caller's transaction
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(CommunicationTemplate, template_id).usage_count == 9


def test_record_use_increments_in_the_database(app):
    template = make_template(usage_count=5)
    db.session.commit()
    # Someone else counted uses meanwhile; the object in memory still says 5.
    db.session.execute(
        sa.update(CommunicationTemplate)
        .where(CommunicationTemplate.id == template.id)
        .values(usage_count=10)
        .execution_options(synchronize_session=False)
    )
    statements = []

    test_thread = threading.get_ident()

    def capture(conn, cursor, statement, *args):
        # Only this test's statements: the embedded worker's sweeps share the engine.
        if threading.get_ident() == test_thread:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        record_use(template.id)
        record_use(template.id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    db.session.commit()
    assert template.usage_count == 12
    assert all(s.lstrip().upper().startswith("UPDATE") for s in statements)
    assert "usage_count + " in statements[0]


def test_templates_for_channel_filters_and_orders(app):
    make_template("whatsapp_b", channel_type=TemplateChannelType.WHATSAPP_BUSINESS, usage_count=3)
    make_template("whatsapp_a", channel_type=TemplateChannelType.WHATSAPP_BUSINESS, usage_count=3)
    make_template("any_popular", usage_count=9)
    make_template("email_only", channel_type=TemplateChannelType.EMAIL_OUTLOOK)
    make_template("old", channel_type=TemplateChannelType.WHATSAPP_BUSINESS, is_active=False)
    make_template(
        "scheduling",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )

    def names(*args, **kwargs):
        return [t.template_name for t in templates_for_channel(*args, **kwargs)]

    assert names("whatsapp_business") == ["any_popular", "whatsapp_a", "whatsapp_b", "scheduling"]
    assert names("whatsapp_business", "installation_scheduling") == ["scheduling"]
    assert names("internal_task") == ["any_popular"]
    assert "email_only" in names(None) and "old" not in names(None)
    with pytest.raises(TemplateValidationError):
        templates_for_channel("sms", "no_such_category")


def test_validation_names_each_field(app):
    make_template("Bevestiging")
    with pytest.raises(TemplateValidationError) as caught:
        clean_template_data(
            {
                "template_name": "bevestiging",
                "template_category": "gossip",
                "channel_type": "fax",
                "subject_template": "{{order_id}} {{ 7*7 }}",
                "message_template": "Hoi {{klantnaam}}",
                "variables": ["Not A Name"],
            }
        )
    fields = caught.value.fields
    assert fields["template_name"] == "another template already has this name"
    assert "must be one of" in fields["template_category"]
    assert "must be one of" in fields["channel_type"]
    assert "{{ 7*7 }} is not a placeholder" in fields["subject_template"]
    assert "Unknown placeholder {{klantnaam}}" in fields["message_template"]
    assert "not a valid name" in fields["variables"]
    with pytest.raises(TemplateValidationError) as caught:
        clean_template_data({"template_name": "x" * 121, "template_category": "follow_up"})
    assert caught.value.fields == {
        "template_name": "must be at most 120 characters",
        "message_template": "required",
    }
    cleaned = clean_template_data(
        {
            "template_name": "ok",
            "template_category": "follow_up",
            "message_template": "{{order_total}} voor {{customer_name}}",
            "variables": "order_total, spare",
        }
    )
    assert cleaned["variables"] == ["order_total", "customer_name", "spare"]


# --- admin pages --------------------------------------------------------------


FORM = {
    "template_name": "planning_bevestigd",
    "display_name": "Planning confirmed",
    "description": "After the customer agreed to a date.",
    "template_category": "installation_scheduling",
    "channel_type": "whatsapp_business",
    "business_entity": "chargecars",
    "language": "nl",
    "subject_template": "",
    "message_template": "Hoi {{customer_first_name}}, we komen op {{installation_date}}. "
    "Graag antwoord voor {{response_date}}.",
    "html_template": "",
    "variables": "response_date",
    "is_active": "y",
}


def test_admin_creates_edits_and_deactivates_a_template(client, auth, make_user):
    sign_in(auth, make_user)
    page = client.get("/admin/templates/new")
    assert page.status_code == 200
    assert b"{{customer_first_name}}" in page.data  # the variables help
    token = csrf_token_from(page.get_data(as_text=True))

    response = client.post("/admin/templates/new", data={**FORM, "csrf_token": token})
    assert response.status_code == 303
    listing = client.get("/admin/templates/").get_data(as_text=True)
    # The human name leads; the internal name is there, small.
    assert ">Planning confirmed</a>" in listing
    assert 'data-testid="template-internal-name">planning_bevestigd</small>' in listing
    assert "After the customer agreed to a date." in listing
    template = db.session.scalar(sa.select(CommunicationTemplate))
    assert template.variables == ["customer_first_name", "installation_date", "response_date"]
    assert [t.id for t in templates_for_channel("whatsapp_business")] == [template.id]

    edit = client.get(f"/admin/templates/{template.id}/edit").get_data(as_text=True)
    assert 'value="response_date"' in edit
    assert 'value="Planning confirmed"' in edit
    response = client.post(
        f"/admin/templates/{template.id}/edit",
        data={
            **FORM,
            "display_name": "Date agreed",
            "template_name": "Planning akkoord",
            "csrf_token": csrf_token_from(edit),
            "version": _hidden(edit, "version"),
        },
    )
    assert response.status_code == 303
    db.session.refresh(template)
    assert template.template_name == "Planning akkoord"
    assert template.display_name == "Date agreed"

    response = client.post(
        f"/admin/templates/{template.id}/deactivate",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Activate" in response.get_data(as_text=True)
    db.session.expire_all()
    assert templates_for_channel("whatsapp_business") == []
    response = client.post(f"/admin/templates/{template.id}/activate", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert len(templates_for_channel("whatsapp_business")) == 1


def _hidden(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def test_admin_form_shows_errors_by_field(client, auth, make_user):
    sign_in(auth, make_user)
    token = csrf_token_from(client.get("/admin/templates/new").get_data(as_text=True))
    response = client.post(
        "/admin/templates/new",
        data={**FORM, "message_template": "Hoi {{foo}}", "variables": "", "csrf_token": token},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="message_template"' in html
    assert "Unknown placeholder {{foo}}" in html
    assert db.session.scalar(sa.select(sa.func.count(CommunicationTemplate.id))) == 0


def test_stale_edit_is_refused(client, auth, make_user):
    sign_in(auth, make_user)
    template = make_template()
    db.session.commit()
    edit = client.get(f"/admin/templates/{template.id}/edit").get_data(as_text=True)
    template.template_name = "changed_elsewhere"
    db.session.commit()
    response = client.post(
        f"/admin/templates/{template.id}/edit",
        data={**FORM, "csrf_token": csrf_token_from(edit), "version": _hidden(edit, "version")},
    )
    assert response.status_code == 409
    assert b"Someone else changed this template" in response.data
    db.session.refresh(template)
    assert template.template_name == "changed_elsewhere"


def test_admin_list_filters_by_channel_and_category(client, auth, make_user):
    sign_in(auth, make_user)
    make_template(
        "wa_schedule",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    make_template("wa_service", channel_type=TemplateChannelType.WHATSAPP_BUSINESS)
    make_template("mail_service", channel_type=TemplateChannelType.EMAIL_OUTLOOK)
    db.session.commit()
    partial = client.get(
        "/admin/templates/?channel=whatsapp_business&category=customer_service",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "<html" not in partial
    assert "wa_service" in partial
    assert "wa_schedule" not in partial and "mail_service" not in partial
    assert client.get("/admin/templates/?channel=fax").status_code == 400


def test_admin_preview_renders_sample_values(client, auth, make_user):
    sign_in(auth, make_user)
    token = csrf_token_from(client.get("/admin/templates/new").get_data(as_text=True))
    response = client.post(
        "/admin/templates/preview",
        data={
            "message_template": "Hoi {{customer_name}}, {{fix_date}} {{oops}}",
            "variables": "fix_date",
            "csrf_token": token,
        },
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hoi Jan de Vries, [fix_date] {{oops}}" in html
    assert 'class="placeholder-unknown"' in html


@pytest.mark.parametrize("role", ["agent", "manager", "technician"])
def test_non_admins_get_403_on_admin_pages(client, auth, make_user, role):
    sign_in(auth, make_user, role)
    template = make_template()
    db.session.commit()
    assert client.get("/admin/templates/").status_code == 403
    assert client.get("/admin/templates/new").status_code == 403
    assert client.get(f"/admin/templates/{template.id}/edit").status_code == 403


# --- JSON API -----------------------------------------------------------------


def test_api_lists_and_filters_templates(client, auth, make_user):
    sign_in(auth, make_user, "agent")
    make_template("wa", channel_type=TemplateChannelType.WHATSAPP_BUSINESS)
    make_template("mail", channel_type=TemplateChannelType.EMAIL_OUTLOOK, is_active=False)
    db.session.commit()
    body = client.get("/api/templates").get_json()
    assert body["next_cursor"] is None
    assert [t["template_name"] for t in body["data"]] == ["mail", "wa"]
    assert set(body["data"][0]) >= {"id", "variables", "usage_count", "html_template"}
    only = client.get("/api/templates?channel=whatsapp_business&active=1").get_json()["data"]
    assert [t["template_name"] for t in only] == ["wa"]
    inactive = client.get("/api/templates?active=0").get_json()["data"]
    assert [t["template_name"] for t in inactive] == ["mail"]
    bad = client.get("/api/templates?category=gossip")
    assert bad.status_code == 422
    assert "category" in bad.get_json()["error"]["fields"]


def test_api_creates_template_for_admins_only(client, auth, make_user):
    sign_in(auth, make_user)
    headers = {"X-CSRFToken": auth.csrf_token()}
    payload = {
        "template_name": "api_template",
        "template_category": "follow_up",
        "channel_type": "email_outlook",
        "subject_template": "Order {{order_id}}",
        "message_template": "Totaal {{order_total}}",
        "variables": ["order_total"],
    }
    response = client.post("/api/templates", json=payload, headers=headers)
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["variables"] == ["order_id", "order_total"]
    assert data["is_active"] is True and data["usage_count"] == 0

    response = client.post(
        "/api/templates", json={"template_name": "API_TEMPLATE"}, headers=headers
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["message_template"] == "required"
    assert fields["template_category"] == "required"
    assert fields["template_name"] == "another template already has this name"


def test_api_create_is_forbidden_for_agents(client, auth, make_user):
    sign_in(auth, make_user, "agent")
    response = client.post(
        "/api/templates",
        json={"template_name": "x", "template_category": "follow_up", "message_template": "x"},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_api_requires_sign_in(client):
    assert client.get("/api/templates").status_code == 401


# --- the composer's preview -----------------------------------------------------


def test_thread_preview_renders_for_desk_roles(client, auth, make_user):
    agent = sign_in(auth, make_user, "agent")
    thread = order_thread()
    template = make_template(
        body="Hoi {{customer_first_name}}, groet {{agent_name}}",
        subject_template="Order {{order_id}}",
    )
    db.session.commit()
    response = client.post(
        f"/templates/{template.id}/preview?thread_id={thread.id}",
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "subject": "Order CC-2026-00001",
        "body": f"Hoi Jan, groet {agent.name}",
        "html": None,
    }


def test_thread_preview_422_names_the_variables(client, auth, make_user):
    sign_in(auth, make_user, "agent")
    thread = factories.thread(factories.channel(), factories.contact())
    template = make_template(
        body="Order {{order_id}} om {{visit_time}}", variables=["order_id", "visit_time"]
    )
    db.session.commit()
    url = f"/templates/{template.id}/preview?thread_id={thread.id}"
    headers = {"X-CSRFToken": auth.csrf_token()}
    response = client.post(url, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "template_variables"
    assert error["fields"]["variables.order_id"] == "this thread has no linked order"
    assert "variables.visit_time" in error["fields"]
    response = client.post(
        url, json={"variables": {"order_id": "CC-1", "visit_time": "10:00"}}, headers=headers
    )
    assert response.get_json()["body"] == "Order CC-1 om 10:00"
    response = client.post(
        url, data={"variables.order_id": "CC-2", "variables.visit_time": "11:00"}, headers=headers
    )
    assert response.get_json()["body"] == "Order CC-2 om 11:00"


def test_thread_preview_checks_access_and_ids(client, auth, make_user):
    team_a = Team(name="Klantenservice", slug="klantenservice")
    team_b = Team(name="Techniek", slug="techniek")
    db.session.add_all([team_a, team_b])
    db.session.flush()
    sign_in(auth, make_user, "agent", team_id=team_a.id)
    other_team = factories.thread(
        factories.channel(), factories.contact(), assigned_team_id=team_b.id
    )
    template = make_template()
    db.session.commit()
    headers = {"X-CSRFToken": auth.csrf_token()}
    url = f"/templates/{template.id}/preview?thread_id="
    response = client.post(url + str(other_team.id), headers=headers)
    assert response.status_code == 403
    assert client.post(url + "not-a-uuid", headers=headers).status_code == 404
    missing = client.post(
        f"/templates/{other_team.id}/preview?thread_id={other_team.id}", headers=headers
    )
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_thread_preview_is_refused_to_technicians(client, auth, make_user):
    sign_in(auth, make_user, "technician")
    thread = order_thread()
    template = make_template()
    db.session.commit()
    token = csrf_token_from(client.get("/m/").get_data(as_text=True))
    response = client.post(
        f"/templates/{template.id}/preview?thread_id={thread.id}", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 403


def test_create_template_service_stores_used_and_declared_names(app):
    template = create_template(
        {
            "template_name": "svc",
            "template_category": "follow_up",
            "message_template": "{{customer_name}}",
            "variables": ["extra_note"],
        }
    )
    assert template.variables == ["customer_name", "extra_note"]
    assert template.channel_type == TemplateChannelType.ANY
