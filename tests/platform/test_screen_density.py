"""The layout density preference and a refused reply without JavaScript."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import AuditLog, User
from app.platform.models.enums import ChannelType
from tests.support import factories
from tests.support.helpers import csrf_token_from

BODY_CLASS = re.compile(r'<body class="density-(\w+)"')


def _body_density(client) -> str:
    return BODY_CLASS.search(client.get("/inbox").get_data(as_text=True)).group(1)


def test_compact_is_the_default_and_comfortable_is_saved_audited_and_applied(
    client, auth, make_user
):
    agent = make_user("agent")
    auth.login(agent.email)
    assert _body_density(client) == "compact"
    html = client.get("/settings/preferences").get_data(as_text=True)
    assert 'data-testid="density-select"' in html

    saved = client.post(
        "/settings/preferences",
        data={"language": "", "density": "comfortable", "csrf_token": csrf_token_from(html)},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, agent.id).density == "comfortable"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "density_changed"))
    assert entry.changes == {"density": {"from": "compact", "to": "comfortable"}}
    assert _body_density(client) == "comfortable"


def test_a_density_we_do_not_have_is_refused_naming_the_field(client, auth, make_user):
    agent = make_user("agent")
    auth.login(agent.email)
    token = auth.csrf_token("/settings/preferences")
    refused = client.post(
        "/settings/preferences",
        data={"language": "", "density": "tiny", "csrf_token": token},
    )
    assert refused.status_code == 422
    assert "Choose compact or comfortable." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, agent.id).density == "compact"


def test_a_reply_refused_without_javascript_keeps_the_text_beside_its_error(
    client, auth, make_user
):
    agent = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen")
    thread = factories.thread(channel, jan)
    factories.message(thread, "Mijn laadpaal knippert", sender_contact_id=jan.id)
    thread.last_customer_message_at = thread.last_message_at
    db.session.commit()
    auth.login(agent.email)
    token = auth.csrf_token(f"/threads/{thread.id}")
    too_long = "lang " * 4001
    refused = client.post(
        f"/threads/{thread.id}/reply", data={"csrf_token": token, "content": too_long}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "A reply can be at most 20000 characters." in html
    # The error sits in the composer's footer, beside Send, and names the box.
    footer = html[html.index('class="composer-footer"'):]
    assert footer.index('data-testid="reply-error"') < footer.index('type="submit"')
    assert 'aria-describedby="reply-content-error"' in html
    assert too_long.strip() in html
