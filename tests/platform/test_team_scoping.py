"""Team scoping: the team filter offers the viewer's teams; a foreign thread says whose it is."""

from __future__ import annotations

import re

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, TokenKind
from tests.support import factories


def _team_options(client) -> list[str]:
    html = client.get("/inbox").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="team".*?</select>', html, re.S)
    assert select, "the inbox has a team filter"
    return re.findall(r'<option value="[0-9a-f-]{36}"[^>]*>([^<]+)</option>', select.group(0))


def test_an_agent_is_offered_only_their_own_team(client, auth, make_user):
    mine, _ = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    make_user("agent", email="agent-a@switchboard.test", team_id=mine.id)
    auth.login("agent-a@switchboard.test")
    assert _team_options(client) == ["Klantenservice"]


def test_managers_and_admins_are_offered_every_team(client, auth, make_user):
    factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    for role in ("manager", "admin"):
        user = make_user(role)
        auth.login(user.email)
        assert _team_options(client) == ["Klantenservice", "Techniek"]
        auth.logout()


def _foreign_thread(make_user):
    mine, theirs = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    owner = make_user("agent", team_id=theirs.id)
    owner.name = "Anouk de Vries"
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(
        channel,
        factories.contact(),
        assigned_team_id=theirs.id,
        assigned_to_user_id=owner.id,
        thread_subject="Laadpaal laadt niet",
    )
    db.session.commit()
    viewer = make_user("agent", email="agent-b@switchboard.test", team_id=mine.id)
    return viewer, thread


def test_another_teams_thread_is_a_403_page_saying_whose_it_is(client, auth, make_user):
    _, thread = _foreign_thread(make_user)
    auth.login("agent-b@switchboard.test")
    response = client.get(f"/threads/{thread.id}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "belongs to the team Techniek and is assigned to Anouk de Vries" in html
    assert re.search(r'<a href="/inbox">Back to the inbox</a>', html)
    assert "Laadpaal laadt niet" not in html  # whose it is, not what it says


def test_the_json_api_still_answers_403_json(client, make_user):
    viewer, thread = _foreign_thread(make_user)
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=viewer.id)
    db.session.commit()
    response = client.get(
        f"/api/communication/threads/{thread.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_a_json_request_for_the_page_gets_json_too(client, auth, make_user):
    _, thread = _foreign_thread(make_user)
    auth.login("agent-b@switchboard.test")
    response = client.get(f"/threads/{thread.id}", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert "Techniek" in response.json["error"]["message"]
