"""The admin page of Outlook mailboxes: add, validate on the page, edit team and signature,
disable; every change audited; admins only."""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import AuditLog, CommunicationChannel, OutlookMailbox
from app.platform.models.enums import ChannelType
from tests.support import factories

PAGE = "/admin/mailboxes/"


def _admin(app, auth, make_user):
    app.config["GRAPH_MAILBOX"] = "klantenservice@chargecars.nl"
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")


def _mailbox(address: str) -> OutlookMailbox | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(OutlookMailbox).where(OutlookMailbox.address == address))


def test_admin_adds_edits_and_disables_a_mailbox(app, client, auth, make_user):
    _admin(app, auth, make_user)
    planning = factories.team("Planning")
    db.session.commit()
    html = client.get(PAGE).get_data(as_text=True)
    assert "klantenservice@chargecars.nl" in html  # the default, from GRAPH_MAILBOX
    token = auth.csrf_token(PAGE)

    response = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "address": "Planning@ChargeCars.nl",
            "display_name": "Planning",
            "team_id": str(planning.id),
            "signature": "Team Planning",
        },
    )
    assert response.status_code == 303
    mailbox = _mailbox("planning@chargecars.nl")
    assert mailbox.team_id == planning.id and mailbox.is_active
    channel = db.session.get(CommunicationChannel, mailbox.channel_id)
    assert channel.channel_type == ChannelType.EMAIL_OUTLOOK
    assert channel.configuration == {
        "mailbox": "planning@chargecars.nl",
        "signature": "Team Planning",
    }

    response = client.post(
        f"{PAGE}{mailbox.id}",
        data={"csrf_token": token, "display_name": "Planning", "team_id": "", "signature": ""},
    )
    assert response.status_code == 303
    mailbox = _mailbox("planning@chargecars.nl")
    assert mailbox.team_id is None
    assert "signature" not in db.session.get(CommunicationChannel, mailbox.channel_id).configuration

    response = client.post(f"{PAGE}{mailbox.id}/active", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 303
    assert not _mailbox("planning@chargecars.nl").is_active
    assert ">disabled<" in client.get(PAGE).get_data(as_text=True)

    actions = db.session.scalars(
        sa.select(AuditLog.action)
        .where(AuditLog.table_name == "outlook_mailbox")
        .order_by(AuditLog.created_at)
    ).all()
    assert actions == ["MAILBOX_ADDED", "MAILBOX_CHANGED", "MAILBOX_DISABLED"]


def test_mistakes_are_shown_on_the_page(app, client, auth, make_user):
    _admin(app, auth, make_user)
    token = auth.csrf_token(PAGE)
    bad = client.post(
        PAGE,
        data={"csrf_token": token, "address": "geen-adres", "team_id": "nope", "signature": ""},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "geen-adres is not an e-mail address." in html
    assert "Choose one of the teams." in html
    assert 'value="geen-adres"' in html  # what was typed stays

    taken = client.post(PAGE, data={"csrf_token": token, "address": "klantenservice@chargecars.nl"})
    assert taken.status_code == 422
    assert "is already a mailbox here" in taken.get_data(as_text=True)

    default = _mailbox("klantenservice@chargecars.nl")
    refused = client.post(f"{PAGE}{default.id}/active", data={"csrf_token": token, "active": "0"})
    assert refused.status_code == 422
    assert _mailbox("klantenservice@chargecars.nl").is_active
    assert db.session.scalar(sa.select(sa.func.count(OutlookMailbox.id))) == 1


def test_the_mailbox_page_is_for_admins_only(client, auth, make_user):
    make_user("manager", email="m@switchboard.test")
    auth.login("m@switchboard.test")
    assert client.get(PAGE).status_code == 403
