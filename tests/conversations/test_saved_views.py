"""Saved inbox views — validation, who sees them, their counts."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.conversations.core import InboundMessage
from app.conversations.inbox.saved_views import (
    SavedViewError,
    can_edit,
    delete_view,
    parse_view_query,
    save_view,
    update_view,
    visible_views,
)
from app.conversations.inbox.view_counts import cached_view_counts, inbox_changed, view_counts
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import AuditLog, SavedView
from app.platform.models.enums import ChannelType, Priority
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import csrf_token_from, receive

# --- validation --------------------------------------------------------------


def test_a_view_keeps_only_known_inbox_arguments_normalised(app):
    assert parse_view_query({"filter": "whatsapp", "q": "  laadpaal ", "status": ""}) == {
        "filter": "whatsapp",
        "q": "laadpaal",
    }
    with pytest.raises(SavedViewError) as unknown:
        parse_view_query({"filter": "mine", "order_by": "id; DROP TABLE users"})
    assert unknown.value.field == "order_by"
    with pytest.raises(SavedViewError) as bad_value:
        parse_view_query({"priority": "whenever"})
    assert bad_value.value.field == "priority"


def test_a_name_is_required_short_and_unique_per_owner(app, make_user):
    anouk, bram = make_user("agent"), make_user("agent")
    save_view(anouk, "  Urgent   WhatsApp ", "private", {"filter": "whatsapp"})
    commit()
    assert visible_views(anouk)[0].name == "Urgent WhatsApp"

    for name, reason in (("", "required"), ("x" * 61, "longer"), ("urgent whatsapp", "already")):
        with pytest.raises(SavedViewError) as refused:
            save_view(anouk, name, "private", {})
        assert refused.value.field == "name"
        assert reason in str(refused.value.message)
        db.session.rollback()
    # Another agent may use the same name.
    save_view(bram, "Urgent WhatsApp", "private", {})
    commit()
    assert db.session.query(SavedView).count() == 2


def test_sharing_wider_than_allowed_is_refused(app, make_user):
    lone = make_user("agent")
    with pytest.raises(SavedViewError, match="visibility"):
        save_view(lone, "Team", "team", {})
    with pytest.raises(SavedViewError, match="visibility"):
        save_view(lone, "All", "everyone", {})
    with pytest.raises(SavedViewError, match="visibility"):
        save_view(lone, "All", "public", {})


# --- who sees and changes a view -----------------------------------------------


def _teams(make_user):
    service, tech = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    return {
        "anouk": make_user("agent", team_id=service.id),
        "daan": make_user("agent", team_id=service.id),
        "lead": make_user("team_lead", team_id=service.id),
        "tess": make_user("agent", team_id=tech.id),
        "manager": make_user("manager"),
    }


def test_a_team_view_is_seen_by_the_team_only_and_everyone_views_by_all(app, make_user):
    people = _teams(make_user)
    private = save_view(people["anouk"], "Mijn lijst", "private", {"filter": "mine"})
    team = save_view(people["anouk"], "Team WhatsApp", "team", {"filter": "whatsapp"})
    everyone = save_view(people["manager"], "Te laat", "everyone", {"filter": "overdue"})
    commit()

    def names(who):
        return [view.name for view in visible_views(people[who])]

    # Own views first, then shared ones by name.
    assert names("anouk") == ["Mijn lijst", "Team WhatsApp", "Te laat"]
    assert names("daan") == ["Te laat", "Team WhatsApp"]
    assert names("tess") == ["Te laat"]
    assert names("manager") == ["Te laat"]
    assert team.team_id == people["anouk"].team_id and team.shared
    assert not private.shared and everyone.team_id is None

    assert can_edit(people["anouk"], team)
    assert not can_edit(people["daan"], team)
    assert can_edit(people["lead"], team)
    assert can_edit(people["manager"], team)
    assert not can_edit(people["manager"], private)
    assert not can_edit(people["tess"], everyone)


def test_a_manager_changing_a_colleagues_view_is_on_the_record(app, make_user):
    people = _teams(make_user)
    view = save_view(people["anouk"], "Team WhatsApp", "team", {"filter": "whatsapp"})
    commit()
    with pytest.raises(SavedViewError, match="visibility"):
        update_view(people["manager"], view, "WhatsApp team", "private")
    db.session.rollback()
    update_view(people["manager"], view, "WhatsApp team", None)
    commit()
    assert view.name == "WhatsApp team"
    with pytest.raises(PermissionError):
        delete_view(people["daan"], view)
    delete_view(people["lead"], view)
    commit()
    assert db.session.get(SavedView, view.id) is None
    entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.table_name == "saved_views"))
    actions = {entry.action for entry in entries}
    assert actions == {"update", "delete"}


# --- counts ------------------------------------------------------------------


def test_counts_match_the_list_as_each_viewer_sees_it(app, make_user):
    people = _teams(make_user)
    service_team = people["anouk"].team_id
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    email = factories.channel(ChannelType.EMAIL_OUTLOOK)
    for _ in range(3):
        factories.thread(whatsapp, factories.contact(), assigned_team_id=service_team)
    factories.thread(whatsapp, factories.contact(), assigned_team_id=people["tess"].team_id)
    factories.thread(email, factories.contact(), priority=Priority.URGENT)
    commit()
    views = [
        save_view(people["manager"], "WhatsApp", "everyone", {"filter": "whatsapp"}),
        save_view(people["manager"], "Urgent", "everyone", {"priority": "urgent"}),
    ]
    commit()

    assert view_counts(people["manager"], views) == {str(views[0].id): 4, str(views[1].id): 1}
    # Anouk does not see the other team's conversation: it is not in her count.
    assert view_counts(people["anouk"], views) == {str(views[0].id): 3, str(views[1].id): 1}


def test_kept_counts_are_used_until_the_inbox_changes(app, make_user):
    agent = make_user("agent")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    factories.thread(whatsapp, factories.contact())
    view = save_view(agent, "WhatsApp", "private", {"filter": "whatsapp"})
    commit()
    assert cached_view_counts(agent, [view]) == {str(view.id): 1}

    factories.thread(whatsapp, factories.contact())
    db.session.commit()  # behind the conversation owner's back: no event, kept count
    assert cached_view_counts(agent, [view]) == {str(view.id): 1}
    inbox_changed()
    assert cached_view_counts(agent, [view]) == {str(view.id): 2}


def test_a_new_message_makes_kept_counts_stale(app, make_user):
    agent = make_user("agent")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    view = save_view(agent, "Laadpaal", "private", {"q": "laadpaal"})
    commit()
    assert cached_view_counts(agent, [view]) == {str(view.id): 0}

    receive(
        whatsapp,
        factories.contact(),
        InboundMessage(
            external_message_id=f"wamid.{uuid.uuid4().hex}",
            content="Mijn laadpaal knippert rood",
            received_at=utcnow(),
        ),
    )
    commit()
    assert cached_view_counts(agent, [view]) == {str(view.id): 1}


# --- pages -------------------------------------------------------------------


def _signed_in(client, auth, make_user, **fields):
    user = make_user("agent", **fields)
    auth.login(user.email)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    return user, token


def test_saving_from_the_inbox_shows_the_view_with_its_count(client, auth, make_user):
    user, token = _signed_in(client, auth, make_user)
    factories.thread(factories.channel(ChannelType.WHATSAPP_BUSINESS), factories.contact())
    commit()
    response = client.post(
        "/inbox/views",
        data={
            "csrf_token": token,
            "name": "WhatsApp",
            "visibility": "private",
            "filter": "whatsapp",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/inbox?filter=whatsapp"
    html = response.get_data(as_text=True)
    assert re.search(r'class="saved-view active".*?WhatsApp.*?saved-view-count[^>]*>1<', html, re.S)


def test_an_unknown_filter_is_refused_with_422_naming_it(client, auth, make_user):
    _, token = _signed_in(client, auth, make_user)
    response = client.post(
        "/inbox/views",
        data={"csrf_token": token, "name": "Raar", "visibility": "private", "where": "1=1"},
    )
    assert response.status_code == 422
    assert "where: is not an inbox filter" in response.get_data(as_text=True)
    assert db.session.query(SavedView).count() == 0


def test_rename_and_delete_from_the_manage_page(client, auth, make_user):
    user, token = _signed_in(client, auth, make_user)
    view = save_view(user, "Oud", "private", {"filter": "mine"})
    other = save_view(make_user("agent"), "Van een ander", "private", {})
    commit()
    form = {"csrf_token": token}
    assert "Oud" in client.get("/inbox/views").get_data(as_text=True)

    renamed = client.post(f"/inbox/views/{view.id}", data={"csrf_token": token, "name": "Nieuw"})
    assert renamed.status_code == 303
    empty = client.post(f"/inbox/views/{view.id}", data={"csrf_token": token, "name": " "})
    assert empty.status_code == 422 and "name: is required" in empty.get_data(as_text=True)
    # Someone else's private view does not exist as far as this agent knows.
    assert client.post(f"/inbox/views/{other.id}/delete", data=form).status_code == 404
    assert client.post(f"/inbox/views/{view.id}/delete", data=form).status_code == 303
    db.session.expire_all()
    assert [v.name for v in db.session.query(SavedView)] == ["Van een ander"]
