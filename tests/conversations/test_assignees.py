"""Who a conversation may be given to, and what a technician may change in it.

From outside, as the review did it: ``PUT /api/communication/threads/<id>`` with
personal tokens, the thread page's edit form and the inbox's bulk bar. A
conversation goes only to staff who may open it once it is theirs (never a
partner's portal user, a technician only for a visit they are on); a technician
changes in their visit's conversation only whether it is in hand or waiting.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Notification, Order, Visit, VisitTechnician
from app.platform.models.enums import ChannelType, OrderStatus, TokenKind
from tests.support import factories
from tests.support.helpers import csrf_token_from
from tests.support.partner_support import make_partner


def _token(user) -> dict:
    _, plain = issue_token(TokenKind.PERSONAL, "t", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _visit_thread(lead):
    order = Order(
        order_number="CC-2026-05760", status=OrderStatus.SCHEDULED, assigned_technician_id=lead.id
    )
    db.session.add(order)
    db.session.flush()
    visit = Visit(order_id=order.id)
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitTechnician(visit_id=visit.id, technician_id=lead.id, is_lead=True))
    thread = factories.thread(
        factories.channel(ChannelType.WHATSAPP_BUSINESS), factories.contact(), order_id=order.id
    )
    db.session.commit()
    return thread


def _portal_user(make_user):
    partner = make_partner("Groendus")
    return make_user("partner", two_factor=True, partner_organization_id=partner.organization.id)


def _reloaded(thread) -> CommunicationThread:
    db.session.expire_all()
    return db.session.get(CommunicationThread, thread.id)


def test_a_partners_portal_user_cannot_be_given_a_conversation(client, make_user):
    agent = make_user("agent")
    portal = _portal_user(make_user)
    thread = factories.thread(factories.channel(), factories.contact())
    db.session.commit()

    response = client.put(
        f"/api/communication/threads/{thread.id}",
        json={"assigned_to_user_id": str(portal.id), "lock_version": thread.lock_version},
        headers=_token(agent),
    )

    assert response.status_code == 422
    assert "assigned_to_user_id" in response.json["error"]["fields"]
    assert _reloaded(thread).assigned_to_user_id is None
    assert db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == portal.id)
    ) == 0


def test_the_assignee_list_offers_staff_and_the_visits_technicians_only(
    client, auth, make_user
):
    make_user("agent", email="desk@switchboard.test")
    portal = _portal_user(make_user)
    portal.name = "Portaal Gebruiker"
    lead = make_user("technician")
    lead.name = "Monteur Op Bezoek"
    other = make_user("technician")
    other.name = "Monteur Elders"
    thread = _visit_thread(lead)
    auth.login("desk@switchboard.test")

    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assignee = re.search(r'<select name="assigned_to_user_id".*?</select>', html, re.S).group(0)

    assert "Monteur Op Bezoek" in assignee
    assert "Monteur Elders" not in assignee
    assert "Portaal Gebruiker" not in assignee


def test_a_technician_off_the_visit_cannot_be_given_its_conversation(client, make_user):
    agent = make_user("agent")
    lead = make_user("technician")
    elsewhere = make_user("technician")
    thread = _visit_thread(lead)

    refused = client.put(
        f"/api/communication/threads/{thread.id}",
        json={"assigned_to_user_id": str(elsewhere.id), "lock_version": thread.lock_version},
        headers=_token(agent),
    )
    assert refused.status_code == 422
    assert "assigned_to_user_id" in refused.json["error"]["fields"]

    given = client.put(
        f"/api/communication/threads/{thread.id}",
        json={"assigned_to_user_id": str(lead.id), "lock_version": thread.lock_version},
        headers=_token(agent),
    )
    assert given.status_code == 200
    assert _reloaded(thread).assigned_to_user_id == lead.id


def test_the_bulk_bar_gives_nothing_to_a_portal_user(client, auth, make_user):
    make_user("agent", email="desk@switchboard.test")
    portal = _portal_user(make_user)
    thread = factories.thread(factories.channel(), factories.contact())
    db.session.commit()
    auth.login("desk@switchboard.test")
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))

    response = client.post(
        "/inbox/bulk",
        data={
            "csrf_token": token,
            "thread_ids": str(thread.id),
            "action": "assign",
            "assign_to": f"user:{portal.id}",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert _reloaded(thread).assigned_to_user_id is None


def test_a_technician_changes_only_what_their_visit_needs(client, make_user):
    lead = make_user("technician")
    agent = make_user("agent")
    thread = _visit_thread(lead)
    headers = _token(lead)
    url = f"/api/communication/threads/{thread.id}"

    for change in (
        {"status": "resolved"},
        {"status": "closed"},
        {"priority": "urgent"},
        {"tags": ["geen-klant"]},
        {"assigned_to_user_id": str(agent.id)},
    ):
        response = client.put(url, json={**change, "lock_version": 1}, headers=headers)
        assert response.status_code == 403, change
        field = next(iter(change))
        assert field in response.json["error"]["fields"], change
    unchanged = _reloaded(thread)
    assert (unchanged.status.value, unchanged.priority.value, unchanged.tags) == (
        "open",
        "normal",
        [],
    )
    assert unchanged.assigned_to_user_id is None and unchanged.lock_version == 1

    # What the visit needs: in hand, or waiting on the office.
    moved = client.put(url, json={"status": "waiting_internal", "lock_version": 1}, headers=headers)
    assert moved.status_code == 200
    assert moved.json["data"]["status"] == "waiting_internal"
    # The whole thread sent back unchanged is no change of the desk's fields.
    again = client.put(
        url,
        json={"status": "in_progress", "priority": "normal", "tags": [], "lock_version": 2},
        headers=headers,
    )
    assert again.status_code == 200


def test_a_technicians_header_offers_only_their_statuses(client, auth, make_user):
    lead = make_user("technician", email="monteur@switchboard.test")
    thread = _visit_thread(lead)
    auth.login("monteur@switchboard.test")

    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)

    status = re.search(r'<select name="status".*?</select>', html, re.S).group(0)
    offered = re.findall(r'<option value="([a-z_]+)"', status)
    assert offered == ["open", "in_progress", "waiting_customer", "waiting_internal"]
    assert 'name="priority"' not in html and 'name="assigned_to_user_id"' not in html
    assert 'name="tags"' not in html
    # Routing is desk work: the page asks for no team suggestion (it answered 403).
    assert "/team-suggestion" not in html


def test_giving_a_conversation_to_its_technician_keeps_it_with_the_desk(client, make_user):
    klantenservice, techniek = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    agent = make_user("agent", team_id=klantenservice.id)
    colleague = make_user("agent", team_id=klantenservice.id)
    lead = make_user("technician", team_id=techniek.id)
    thread = _visit_thread(lead)
    thread.assigned_team_id = klantenservice.id
    db.session.commit()
    headers = _token(agent)
    url = f"/api/communication/threads/{thread.id}"

    given = client.put(
        url, json={"assigned_to_user_id": str(lead.id), "lock_version": 1}, headers=headers
    )
    assert given.status_code == 200
    assert _reloaded(thread).assigned_team_id == klantenservice.id
    # The desk that handed it on still has it, and can hand it on again.
    assert client.get(url, headers=headers).status_code == 200
    again = client.put(
        url, json={"assigned_to_user_id": str(colleague.id), "lock_version": 2}, headers=headers
    )
    assert again.status_code == 200
