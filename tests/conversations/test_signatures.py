"""Agents edit their own signature, admins anyone's and each
mailbox's; bad input is refused naming the field."""

from __future__ import annotations

import html

from app.platform.extensions import db
from app.platform.models import CommunicationChannel, User
from app.platform.models.enums import ChannelType
from tests.support import factories


def _post(client, auth, path, text):
    token = auth.csrf_token(path if path.startswith("/settings") else "/admin/channels/")
    return client.post(path, data={"csrf_token": token, "signature": text})


def test_an_agent_edits_their_own_signature_only(client, auth, make_user):
    agent = make_user("agent", email="anouk@switchboard.test")
    other = make_user("agent", email="bram@switchboard.test")
    auth.login("anouk@switchboard.test")

    page = client.get("/settings/signature")
    assert page.status_code == 200 and b"Your e-mail signature" in page.data
    response = _post(client, auth, "/settings/signature", "Anouk\r\nKlantenservice  \r\n\r\n")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, agent.id).email_signature == "Anouk\nKlantenservice"

    # Someone else's: not for an agent.
    assert client.get(f"/settings/signature/{other.id}").status_code == 404
    assert _post(client, auth, f"/settings/signature/{other.id}", "x").status_code == 404

    too_long = _post(client, auth, "/settings/signature", "x" * 1001)
    assert too_long.status_code == 422
    assert "Signature: A signature can be at most 1000 characters (this one has 1001)." in (
        html.unescape(too_long.get_data(as_text=True))
    )
    db.session.expire_all()
    assert db.session.get(User, agent.id).email_signature == "Anouk\nKlantenservice"


def test_an_admin_edits_an_agents_and_a_mailboxs_signature(client, auth, make_user):
    agent = make_user("agent", email="anouk@switchboard.test")
    make_user("admin", email="admin@switchboard.test")
    mailbox = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Klantenservice")
    mailbox.configuration = {"mailbox": "klantenservice@chargecars.nl"}
    db.session.commit()
    auth.login("admin@switchboard.test")

    users = client.get("/admin/users").get_data(as_text=True)
    assert f"/settings/signature/{agent.id}" in users
    assert _post(client, auth, f"/settings/signature/{agent.id}", "Anouk").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, agent.id).email_signature == "Anouk"

    channels = client.get("/admin/channels/").get_data(as_text=True)
    path = f"/admin/channels/{mailbox.id}/signature"
    assert "Mailbox signatures" in channels and path in channels
    assert _post(client, auth, path, "ChargeCars\n020 123 4567").status_code == 303
    db.session.expire_all()
    saved = db.session.get(CommunicationChannel, mailbox.id).configuration
    assert saved["signature"] == "ChargeCars\n020 123 4567"
    assert saved["mailbox"] == "klantenservice@chargecars.nl"

    refused = _post(client, auth, path, "\n".join(["regel"] * 13))
    assert refused.status_code == 422
    assert "Signature: A signature can be at most 12 lines." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CommunicationChannel, mailbox.id).configuration["signature"] == (
        "ChargeCars\n020 123 4567"
    )
    # Emptied: the mailbox has no signature any more.
    assert _post(client, auth, path, "  ").status_code == 303
    db.session.expire_all()
    assert "signature" not in db.session.get(CommunicationChannel, mailbox.id).configuration


def test_only_admins_edit_mailbox_signatures(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    mailbox = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Klantenservice")
    db.session.commit()
    auth.login("anouk@switchboard.test")
    token = auth.csrf_token("/settings/signature")
    response = client.post(
        f"/admin/channels/{mailbox.id}/signature", data={"csrf_token": token, "signature": "x"}
    )
    assert response.status_code == 403
