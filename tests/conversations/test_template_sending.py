"""Typed template values reach the providers: WhatsApp's approved-template parameters
(fake Cloud API) and an e-mail's subject and body (fake Microsoft Graph)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.conversations.channels.outlook.state import outlook_channel
from app.platform.extensions import db
from app.platform.models.enums import TemplateCategory
from tests.support import factories
from tests.support.helpers import post_reply, signed_in_agent
from tests.support.jobs import drain_queues
from tests.support.outlook_support import graph_fake, outlook_app, settle
from tests.support.whatsapp_support import (
    CUSTOMER,
    fake_whatsapp_server,
    whatsapp_app,
    whatsapp_thread,
)

REMINDER = (
    "Hoi {{customer_name}}, een herinnering: morgen ({{visit_date}}) om {{visit_time}} komt "
    "{{technician_name}} de laadpaal installeren. Groet, ChargeCars"
)


class TestWhatsApp:
    @pytest.fixture
    def fake_whatsapp(self):
        yield from fake_whatsapp_server()

    @pytest.fixture
    def app(self, make_app, fake_whatsapp, tmp_path):
        yield from whatsapp_app(make_app, fake_whatsapp, tmp_path)

    def test_typed_values_become_the_approved_templates_parameters(
        self, app, client, auth, make_user, fake_whatsapp
    ):
        signed_in_agent(auth, make_user)
        thread = whatsapp_thread(inbound_ago=timedelta(days=2))
        template = factories.template(
            REMINDER,
            template_name="visit_reminder_whatsapp",
            whatsapp_template_name="visit_reminder",
            template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        )
        db.session.commit()
        form = {"template_id": str(template.id), "content": ""}

        refused = post_reply(client, auth, thread, **form)
        assert refused.status_code == 422
        assert "Fill in: Visit date, Visit time, Technician." in refused.get_data(as_text=True)

        typed = {
            "variables.visit_date": "14-05-2026",
            "variables.visit_time": "09:00",
            "variables.technician_name": "Ruben",
        }
        assert post_reply(client, auth, thread, **form, **typed).status_code == 200
        drain_queues(app)
        [body] = fake_whatsapp.sent()
        assert body["to"] == CUSTOMER
        assert body["template"]["name"] == "visit_reminder"
        assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
            "Jan Jansen",
            "14-05-2026",
            "09:00",
            "Ruben",
        ]


class TestEmail:
    @pytest.fixture
    def graph(self, monkeypatch):
        yield from graph_fake(monkeypatch)

    @pytest.fixture
    def app(self, make_app, graph, monkeypatch):
        yield from outlook_app(make_app, graph, monkeypatch)

    def test_typed_values_fill_the_subject_and_body_sent_through_graph(
        self, app, client, auth, make_user, graph
    ):
        signed_in_agent(auth, make_user)
        piet = factories.contact(display_name="Piet Bakker", email="piet@example.nl")
        thread = factories.thread(outlook_channel(), piet, thread_subject="Offerte")
        template = factories.template(
            "Beste {{customer_name}}, de offerte {{quote_number}} is geldig tot {{response_date}}.",
            template_name="quote_follow_up",
            subject_template="Uw offerte {{quote_number}}",
            variables=["response_date"],
        )
        db.session.commit()
        response = post_reply(
            client,
            auth,
            thread,
            template_id=str(template.id),
            content="",
            channel_id=str(thread.channel_id),
            **{"variables.quote_number": "Q-77", "variables.response_date": "1 juni"},
        )
        assert response.status_code == 200
        settle(app, lambda: graph.requests_to("/sendMail", "POST"))
        (send_mail,) = graph.requests_to("/sendMail", "POST")
        message = send_mail.json()["message"]
        assert message["subject"] == "Uw offerte Q-77"
        assert message["body"]["content"] == (
            "Beste Piet Bakker, de offerte Q-77 is geldig tot 1 juni."
        )
