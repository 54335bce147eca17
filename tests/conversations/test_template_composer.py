"""Templates in the composer: inputs prefilled from contact, order and visit; missing
values named; typed values sent; the "/" list; human names (migration 0011)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app.conversations.message_templates.rendering import template_inputs
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Address,
    Article,
    CommunicationMessage,
    CommunicationTemplate,
    LineItem,
    Order,
)
from app.platform.models.enums import (
    ArticleType,
    ChannelType,
    MessageType,
    OrderStatus,
    TemplateCategory,
    TemplateChannelType,
)
from app.seed.demo_catalogue import TEMPLATE_NAMES, TEMPLATES
from tests.support import factories
from tests.support.whatsapp_support import whatsapp_thread

HX = {"HX-Request": "true"}
VISIT = (
    "Beste {{customer_first_name}}, op {{visit_date}} ({{visit_time}}) komt {{technician_name}} "
    "({{technician_phone}}) de {{charger_model}} plaatsen op {{installation_address}}. "
    "Totaal {{order_total}}. Reageer voor {{response_date}}."
)


def _visit_thread(make_user, *, scheduled=True):
    technician = make_user("technician", email=f"tech-{uuid.uuid4().hex[:6]}@switchboard.test")
    technician.name, technician.phone = "Ruben Visser", "+31687654321"
    address = Address(street="Dorpsstraat", house_number="3", postal_code="1234 AB", city="Ede")
    wallbox = Article(sku="ZAP-GO", name="Zaptec Go", article_type=ArticleType.WALLBOX)
    db.session.add_all([address, wallbox])
    db.session.flush()
    order = Order(
        order_number="CC-2026-00042",
        status=OrderStatus.SCHEDULED,
        scheduled_date=date(2026, 5, 14) if scheduled else None,
        assigned_technician_id=technician.id,
        installation_address_id=address.id,
        installation_preferences={"time_window": "ochtend (08:00-12:00)"},
        total_amount=Decimal("1849.00"),
    )
    order.line_items.append(
        LineItem(description="Zaptec Go 22 kW", quantity=1, article_id=wallbox.id)
    )
    db.session.add(order)
    db.session.flush()
    outlook = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Klantenservice")
    jan = factories.contact(
        display_name="Jan Jansen", first_name="Jan", email="jan@example.nl", phone=None
    )
    return factories.thread(outlook, jan, thread_subject="Installatie", order_id=order.id)


def _template(body=VISIT, **fields):
    return factories.template(
        body,
        template_name=fields.pop("template_name", "visit_planning"),
        variables=fields.pop("variables", ["response_date"]),
        **fields,
    )


def _agent(auth, make_user):
    user = make_user("agent", email="agent-tc@switchboard.test")
    auth.login(user.email)
    return user


# --- prefill ------------------------------------------------------------------------


def test_inputs_are_prefilled_from_contact_order_and_visit(app, make_user):
    thread = _visit_thread(make_user)
    template = _template()
    state = template_inputs(template, thread, None)
    values = {i.name: (i.label, i.value, i.source) for i in state.inputs}
    assert values == {
        "customer_first_name": ("Customer first name", "Jan", "contact"),
        "visit_date": ("Visit date", "14-05-2026", "visit"),
        "visit_time": ("Visit time", "ochtend (08:00-12:00)", "visit"),
        "technician_name": ("Technician", "Ruben Visser", "visit"),
        "technician_phone": ("Technician's phone", "+31687654321", "visit"),
        "charger_model": ("Charger model", "Zaptec Go", "order"),
        "installation_address": ("Installation address", "Dorpsstraat 3, 1234 AB Ede", "order"),
        "order_total": ("Order total", "€\u00a01.849,00", "order"),
        "response_date": ("Reply by (date)", "", None),
    }
    assert state.missing_labels == ["Reply by (date)"]
    assert state.error.message == "Fill in: Reply by (date)."
    # The inputs speak the sender's language; the draft, the Dutch message's own.
    assert "Reageer voor [Antwoord vóór (datum)]." in state.draft.body

    typed = template_inputs(
        template, thread, None, {"response_date": "vrijdag", "visit_time": "13:00"}
    )
    assert typed.complete
    assert "(13:00)" in typed.draft.body and typed.draft.body.endswith("voor vrijdag.")
    assert {i.name: i.source for i in typed.inputs}["visit_time"] == "typed"


def test_composer_offers_an_input_per_variable_and_names_the_missing(client, auth, make_user):
    _agent(auth, make_user)
    thread = _visit_thread(make_user, scheduled=False)
    template = _template(display_name="Visit planning", description="Proposes the visit.")
    db.session.commit()
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'<option value="{template.id}" >Visit planning</option>' in page

    response = client.get(f"/threads/{thread.id}/composer?template_id={template.id}", headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fill in: Visit date, Reply by (date)." in html
    assert '<label for="var-visit_date">Visit date</label>' in html
    assert 'name="variables.visit_date" value=""' in html
    assert 'name="variables.technician_name" value="Ruben Visser"' in html
    error = re.search(r'data-testid="variable-error-visit_date"[^>]*>([^<]*)<', html).group(1)
    assert error == "Order CC-2026-00042 has no planned visit"


def test_live_preview_fills_typed_values_and_clears_their_errors(client, auth, make_user):
    _agent(auth, make_user)
    thread = _visit_thread(make_user, scheduled=False)
    template = _template()
    db.session.commit()
    url = f"/threads/{thread.id}/template-preview?template_id={template.id}"
    partial = client.get(url + "&variables.visit_date=15-05-2026", headers=HX)
    assert partial.status_code == 200
    html = partial.get_data(as_text=True)
    assert "Fill in: Reply by (date)." in html
    assert 'data-complete="0"' in html and 'data-body=""' in html
    # Each input's error is swapped in beside it.
    assert re.search(r'id="var-error-visit_date"[^>]*hx-swap-oob="true">\s*</span>', html)
    assert "op 15-05-2026 (ochtend" in html

    done = client.get(
        url + "&variables.visit_date=15-05-2026&variables.response_date=vrijdag", headers=HX
    ).get_data(as_text=True)
    assert 'data-complete="1"' in done and "Fill in" not in done
    assert "Reageer voor vrijdag." in done


def test_sending_names_each_missing_variable_then_uses_the_typed_values(
    app, client, auth, make_user
):
    _agent(auth, make_user)
    thread = _visit_thread(make_user, scheduled=False)
    template = _template(subject_template="Uw installatie op {{visit_date}}")
    db.session.commit()
    form = {
        "csrf_token": auth.csrf_token(f"/threads/{thread.id}"),
        "template_id": str(template.id),
        "content": "",
        "variables.technician_name": "Ruben Visser",
    }
    refused = client.post(f"/threads/{thread.id}/reply", data=form, headers=HX)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Fill in: Visit date, Reply by (date)." in html
    assert 'name="variables.response_date"' in html
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 0

    form.update({"variables.visit_date": "15-05-2026", "variables.response_date": "vrijdag"})
    assert client.post(f"/threads/{thread.id}/reply", data=form, headers=HX).status_code == 200
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert sent.subject == "Uw installatie op 15-05-2026"
    assert "op 15-05-2026 (ochtend (08:00-12:00))" in sent.message_content
    assert sent.message_content.endswith("Reageer voor vrijdag.")
    assert sent.template_id == template.id


def test_json_preview_422_names_every_missing_variable(client, auth, make_user):
    _agent(auth, make_user)
    thread = factories.thread(factories.channel(), factories.contact())
    template = _template("Order {{order_id}} op {{visit_date}}: {{response_date}}")
    db.session.commit()
    response = client.post(
        f"/templates/{template.id}/preview?thread_id={thread.id}",
        json={"variables": {"response_date": "maandag"}},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "Fill in: Order number, Visit date."
    assert set(error["fields"]) == {"variables.order_id", "variables.visit_date"}


# --- the "/" list -------------------------------------------------------------------


def test_canned_list_follows_the_channel_and_says_what_can_be_pasted(
    client, auth, make_user
):
    _agent(auth, make_user)
    thread = _visit_thread(make_user)
    _template(display_name="Visit planning", description="Proposes the visit.")
    factories.template(
        "Beste {{customer_name}}, dank voor uw geduld.",
        template_name="thanks",
        display_name="Thanks for waiting",
        usage_count=3,
    )
    factories.template(
        "Alleen WhatsApp",
        template_name="wa_only",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
    )
    db.session.commit()
    items = client.get(f"/threads/{thread.id}/canned").get_json()["data"]
    assert [item["name"] for item in items] == ["Thanks for waiting", "Visit planning"]
    thanks, planning = items
    assert thanks["kind"] == "text"
    assert thanks["text"] == "Beste Jan Jansen, dank voor uw geduld."
    assert planning["text"] is None and planning["missing"] == ["Reply by (date)"]
    assert planning["description"] == "Proposes the visit."
    assert planning["internal_name"] == "visit_planning"


def test_canned_list_outside_the_whatsapp_window_offers_approved_templates_to_select(
    client, auth, make_user
):
    _agent(auth, make_user)
    thread = whatsapp_thread(inbound_ago=timedelta(days=2))
    factories.template("Hallo {{customer_name}}", template_name="free_text")
    approved = factories.template(
        "Hallo {{customer_name}}, morgen om {{visit_time}}.",
        template_name="visit_reminder_whatsapp",
        whatsapp_template_name="visit_reminder",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    db.session.commit()
    items = client.get(f"/threads/{thread.id}/canned").get_json()["data"]
    assert [(i["id"], i["kind"], i["text"]) for i in items] == [
        (str(approved.id), "approved", None)
    ]


def test_canned_list_respects_team_access(client, auth, make_user):
    _agent(auth, make_user)
    other = factories.thread(factories.channel(), factories.contact())
    db.session.commit()
    assert client.get(f"/threads/{uuid.uuid4()}/canned").status_code == 404
    assert client.get(f"/threads/{other.id}/canned").status_code == 200


# --- human names ----------------------------------------------------------------------


def test_a_template_without_a_display_name_gets_one_from_its_internal_name(app):
    template = factories.template(template_name="quote_follow_up")
    assert template.display_name == "Quote follow-up"


def test_every_demo_template_has_a_human_name_and_description():
    assert set(TEMPLATE_NAMES) == {row[0] for row in TEMPLATES}
    for name, (display_name, description) in TEMPLATE_NAMES.items():
        assert display_name and display_name != name and "_" not in display_name
        assert len(description) > 20


def test_0011_names_existing_templates_from_their_internal_name(app):
    # Whatever 0011 follows once the migrations are chained, go back to it.
    config = current_app.extensions["migrate"].migrate.get_config()
    downgrade(revision=ScriptDirectory.from_config(config).get_revision("0011").down_revision)
    try:
        insert = sa.text(
            "INSERT INTO communication_template (id, created_at, updated_at, template_name, "
            "template_category, channel_type, message_template, variables, business_entity, "
            "language, is_active, usage_count) VALUES (:id, :at, :at, :name, 'sales_inquiry', "
            "'any', 'Hallo', '[]', 'all', 'nl', :true, 0)"
        ).bindparams(
            sa.bindparam("id", type_=sa.Uuid()),
            sa.bindparam("at", type_=sa.DateTime(timezone=True)),
            sa.bindparam("true", type_=sa.Boolean()),
        )
        for name in ("quote_follow_up", "Orderstatus"):
            db.session.execute(
                insert, {"id": uuid.uuid4(), "at": utcnow(), "name": name, "true": True}
            )
        db.session.commit()
    finally:
        upgrade()
    rows = db.session.execute(
        sa.select(CommunicationTemplate.template_name, CommunicationTemplate.display_name)
        # Later migrations add templates of their own (0029: the technician's replies).
        .where(CommunicationTemplate.template_name.in_(("quote_follow_up", "Orderstatus")))
        .order_by(CommunicationTemplate.template_name)
    ).all()
    assert [tuple(row) for row in rows] == [
        ("Orderstatus", "Orderstatus"),
        ("quote_follow_up", "Quote follow-up"),
    ]
    columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns("communication_template")}
    assert columns["display_name"]["nullable"] is False
    assert columns["description"]["nullable"] is True
