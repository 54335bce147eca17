"""A customer who reached us every way there is, for the GDPR export and erasure tests.

Marieke Oosterhuis orders through a partner's API and a Fillout form, writes on
WhatsApp (in a batch with another customer's message), gets a reply with a file,
is the subject of a task, a draft, a colleague's note in another conversation,
a platform event and an audit entry. Piet Verhoeven is another customer, who
must come through her erasure untouched.

Everything goes through the app's own entry points (webhooks, the partner API,
the conversation owner, the task service), so the rows are the ones production
writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlalchemy as sa

from app.conversations.attachments.uploads import UploadedFile
from app.conversations.core import assign, post_note, post_outbound
from app.conversations.tasks.services import create_task
from app.conversations.workspace.drafts import save_draft
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, Order, PlatformEvent, User
from app.platform.models.enums import ChannelType
from app.platform.system_texts import text
from app.platform.transactions import commit
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.partner_support import add_articles, line_items_order, make_partner

NAME = "Marieke Oosterhuis"
EMAIL = "marieke.oosterhuis@voorbeeld.nl"
PHONE = "06-41234567"
E164 = "+31641234567"
WA_ID = "31641234567"
STREET = "Lindelaan"
# What must be nowhere after the erasure, lower case: her names, address, number.
NEEDLES = ("marieke", "oosterhuis", EMAIL, "41234567", "lindelaan", "3521ab", "3521 ab")

OTHER_NAME = "Piet Verhoeven"
OTHER_WA_ID = "31655512345"
FILLOUT_SECRET = "fillout-secret-gdpr"  # noqa: S105  (a test's shared secret)
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.7 offerte voor de laadpaal"


@dataclass
class Scenario:
    admin: User
    agent: User
    customer: Contact
    other: Contact
    thread: CommunicationThread
    orders: list[Order]
    reply_id: object


def whatsapp_post(client, messages, contacts) -> None:
    body = wa.webhook(messages=messages, contacts=contacts)
    response = client.post("/api/v1/webhooks/whatsapp", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)


def build(app, client, make_user) -> Scenario:
    admin = make_user("admin")
    agent = make_user("agent")

    # 1. A partner's order over the API (callback subscribed; the partner is mailed).
    partner = make_partner(
        "Groendus", webhook_url="http://127.0.0.1:9/hook", webhook_events=["order_created"]
    )
    add_articles(partner)
    body = line_items_order(
        "GRO-GDPR-1",
        customer={
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "address": {
                "street": f"{STREET} 42",
                "city": "Utrecht",
                "postal_code": "3521 AB",
            },
        },
        installation_preferences={
            "preferred_date": "2026-12-15",
            "access_notes": f"Bel {NAME} op {PHONE}, sleutel bij de buren",
        },
    )
    answer = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)

    # 2. The same person through a form.
    form = {
        "formId": "chargecars-intake-2025",
        "submissionId": "sub_gdpr_1",
        "submittedAt": "2026-01-31T14:30:00Z",
        "responses": {
            "customer_name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "address": f"{STREET} 42, 3521AB Utrecht",
            "charging_needs": "Thuisladen, vraag naar Marieke",
            "selected_products": ["Wallbox 11kW"],
        },
    }
    answer = client.post(
        "/api/v1/webhooks/fillout", json=form, headers={"Authorization": f"Bearer {FILLOUT_SECRET}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    drain_queues(app)
    db.session.expire_all()
    customer = db.session.scalar(sa.select(Contact).where(Contact.email == EMAIL))

    # 3. WhatsApp: her message in one batch with another customer's.
    now = int(time.time())
    whatsapp_post(
        client,
        messages=[
            wa.text_message(
                WA_ID, f"Hoi, {STREET} 42 hier, wanneer komen jullie?", "wamid.m1", now
            ),
            wa.text_message(OTHER_WA_ID, "Mijn laadpaal knippert", "wamid.p1", now),
        ],
        contacts=[wa.contact(WA_ID, "Marieke O."), wa.contact(OTHER_WA_ID, OTHER_NAME)],
    )
    drain_queues(app)
    db.session.expire_all()
    thread = db.session.scalar(
        sa.select(CommunicationThread).where(CommunicationThread.contact_id == customer.id)
    )
    other = db.session.scalar(sa.select(Contact).where(Contact.phone == "+" + OTHER_WA_ID))
    assert thread is not None and other is not None

    # 4. Assigned, so her next message notifies the agent by name.
    assign(thread, team=None, user=agent, reason=text("routing.manual", actor=admin.name))
    commit()
    whatsapp_post(
        client,
        messages=[wa.text_message(WA_ID, "Mijn nummer is 06-41234567", "wamid.m2", now + 5)],
        contacts=[wa.contact(WA_ID, "Marieke O.")],
    )
    drain_queues(app)
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)

    # 5. Our reply with two files; sent through the sandbox.
    reply = post_outbound(
        thread,
        channel_id=thread.channel_id,
        body=f"Dag {NAME}, hierbij de foto en de offerte.",
        recipient={"to": WA_ID},
        author_id=agent.id,
        answers_customer=True,
        files=[
            UploadedFile("meterkast.png", "image/png", PHOTO),
            UploadedFile("offerte-oosterhuis.pdf", "application/pdf", PDF),
        ],
    )
    commit()
    reply_id = reply.id
    drain_queues(app)

    # 6. A draft, a task, a colleague's note elsewhere, a platform event, an audit entry.
    save_draft(agent, thread, "reply", f"Beste {NAME}, ")
    create_task(agent, {"task_title": f"Bel {NAME} terug", "thread_id": str(thread.id)})
    other_thread = factories.thread(
        factories.channel(ChannelType.INTERNAL_COMMENT, channel_name="Notes"),
        None,
        thread_subject="Planning week 50",
    )
    post_note(other_thread, agent.id, f"Klant belde vanaf {PHONE}, terugbellen")
    db.session.add(
        PlatformEvent(
            name="customer.updated", source="hubspot", payload={"properties": {"email": EMAIL}}
        )
    )
    record_change("contacts", customer.id, "update", {"email": [None, EMAIL]}, user_id=admin.id)
    commit()
    drain_queues(app)
    db.session.expire_all()
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.end_customer_contact_id == customer.id)
            .order_by(Order.created_at)
        )
    )
    assert len(orders) == 2
    return Scenario(admin, agent, customer, other, thread, orders, reply_id)


def stored_text_by_table() -> dict[str, str]:
    """Every value of every column of every table, as lower-case text, per table."""
    found: dict[str, str] = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            parts = []
            for row in connection.execute(table.select()):
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        parts.append(value.decode("utf-8", errors="replace"))
                    elif isinstance(value, (dict, list)):
                        parts.append(json.dumps(value, ensure_ascii=False))
                    else:
                        parts.append(str(value))
            found[table.name] = "\n".join(parts).lower()
    return found


def tables_mentioning(needles=NEEDLES) -> dict[str, list[str]]:
    """Which tables hold which of ``needles``."""
    return {
        table: hits
        for table, content in stored_text_by_table().items()
        if (hits := [needle for needle in needles if needle.lower() in content])
    }
