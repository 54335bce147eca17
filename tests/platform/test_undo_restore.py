"""Undo send gives the reply box back what the agent typed: the text
without signatures, To/CC/BCC, the quote choice, subject, template and its values;
files are named to attach again, and text typed after Send is kept."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import MessageDraft
from tests.support.helpers import HX, outgoing_messages, post_reply
from tests.support.outlook_support import (
    AGENT_SIGNATURE,
    MAILBOX_SIGNATURE,
    graph_fake,
    jans_mail_for_anouk,
    outlook_app,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

graph = pytest.fixture(graph_fake, name="graph")
thread = pytest.fixture(jans_mail_for_anouk, name="thread")


@pytest.fixture
def app(make_app, graph, monkeypatch, tmp_path):
    yield from outlook_app(
        make_app,
        graph,
        monkeypatch,
        ATTACHMENTS_DIR=str(tmp_path / "attachments"),
        # Long enough that every Undo below is in time, however slow the machine.
        SEND_UNDO_SECONDS=60,
    )


def _reply(client, auth, thread, files=(), **form):
    response = post_reply(client, auth, thread, files, **form)
    assert response.status_code == 200, response.get_data(as_text=True)


def _undo(client, auth, thread, message) -> str:
    response = client.post(
        f"/threads/{thread.id}/messages/{message.id}/undo",
        data={"csrf_token": auth.csrf_token(f"/threads/{thread.id}")},
        headers=HX,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True).split('id="timeline"')[0])


def _box(page: str) -> str:
    box = r'<textarea [^>]*data-testid="reply-content"[^>]*>(.*?)</textarea>'
    return re.search(box, page, re.S).group(1)


def _value(page: str, name: str) -> str:
    return re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page).group(1)


TYPED = dict(
    content="Hierbij de offerte.",
    subject="Uw offerte",
    to="jan.werk@example.nl",
    cc="piet@example.nl, Boekhouding <boekhouding@example.nl>",
    bcc="archief@chargecars.nl",
    quote_offered="1",  # the box unticked: quote left out
)


def test_undo_gives_back_what_was_typed_and_names_the_files(app, client, auth, thread):
    _reply(client, auth, thread, files=[("offerte.pdf", PDF)], **TYPED)
    [held] = outgoing_messages()
    assert AGENT_SIGNATURE in held.message_content  # what is sent carries it

    page = _undo(client, auth, thread, held)

    assert _box(page) == "Hierbij de offerte."  # no signature in the box
    assert _value(page, "subject") == "Uw offerte"
    assert _value(page, "to") == "jan.werk@example.nl"
    assert _value(page, "cc") == "piet@example.nl, Boekhouding <boekhouding@example.nl>"
    assert _value(page, "bcc") == "archief@chargecars.nl"
    quote = re.search(r'<input type="checkbox" name="quote"[^>]*>', page).group(0)
    assert "checked" not in quote
    notice = re.search(r'data-testid="undo-attach-again">([^<]*)<', page).group(1)
    assert notice == "Attach this file again before sending: offerte.pdf."
    assert outgoing_messages() == []
    assert db.session.scalar(sa.select(MessageDraft.content)) == "Hierbij de offerte."


def test_sending_the_restored_reply_again_signs_it_once(app, client, auth, thread):
    _reply(client, auth, thread, **TYPED)
    [held] = outgoing_messages()
    page = _undo(client, auth, thread, held)
    form = {k: _value(page, k) for k in ("subject", "to", "cc", "bcc")}
    _reply(client, auth, thread, content=_box(page), quote_offered="1", **form)
    [again] = outgoing_messages()
    assert again.message_content.count("Anouk de Vries") == 1
    assert again.message_content.count(MAILBOX_SIGNATURE) == 1
    assert again.recipient_external["bcc"] == ["archief@chargecars.nl"]
    assert "quoted_message_id" not in again.extra


def test_text_typed_after_send_is_kept_below_the_restored_reply(app, client, auth, thread):
    _reply(client, auth, thread, **TYPED)
    [held] = outgoing_messages()
    # Typed in the emptied box after Send, saved as the draft (composer.js saves
    # it before Undo goes out).
    token = auth.csrf_token(f"/threads/{thread.id}")
    saved = client.post(
        f"/threads/{thread.id}/draft",
        json={"kind": "reply", "content": "PS: de monteur belt vooraf."},
        headers={"X-CSRFToken": token},
    )
    assert saved.status_code == 200

    page = _undo(client, auth, thread, held)

    expected = "Hierbij de offerte.\n\nPS: de monteur belt vooraf."
    assert _box(page) == expected
    assert 'data-testid="undo-kept-newer"' in page
    assert db.session.scalar(sa.select(MessageDraft.content)) == expected
    assert 'data-testid="undo-attach-again"' not in page


def test_the_quote_ticked_comes_back_ticked(app, client, auth, thread):
    _reply(client, auth, thread, **{**TYPED, "quote": "1"})
    [held] = outgoing_messages()
    page = _undo(client, auth, thread, held)
    quote = re.search(r'<input type="checkbox" name="quote"[^>]*>', page).group(0)
    assert "checked" in quote


def test_the_box_text_posted_with_undo_is_kept_even_before_its_draft_is_saved(
    app, client, auth, thread
):
    _reply(client, auth, thread, **TYPED)
    [held] = outgoing_messages()
    response = client.post(
        f"/threads/{thread.id}/messages/{held.id}/undo",
        data={"csrf_token": auth.csrf_token(f"/threads/{thread.id}"), "content": "PS: tot dan."},
        headers=HX,
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert _box(page) == "Hierbij de offerte.\n\nPS: tot dan."
    assert (
        db.session.scalar(sa.select(MessageDraft.content)) == "Hierbij de offerte.\n\nPS: tot dan."
    )
