"""E-mail replies with files, To/CC/BCC, the quote and signatures,
as the fake Graph server receives them; refused files and addresses send nothing."""

from __future__ import annotations

import base64
import html

import pytest
import sqlalchemy as sa

from app.conversations.attachments.uploads import MB
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import DeliveryStatus, MessageType
from tests.support.helpers import post_reply
from tests.support.outlook_support import (
    AGENT_SIGNATURE,
    MAILBOX_SIGNATURE,
    graph_fake,
    jans_mail_for_anouk,
    outlook_app,
    settle,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

graph = pytest.fixture(graph_fake, name="graph")
thread = pytest.fixture(jans_mail_for_anouk, name="thread")


@pytest.fixture
def app(make_app, graph, monkeypatch, tmp_path):
    yield from outlook_app(
        make_app, graph, monkeypatch, ATTACHMENTS_DIR=str(tmp_path / "attachments")
    )


def _sent_replies() -> list[CommunicationMessage]:
    return db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.delivery_status == DeliveryStatus.SENT,
        )
    ).all()


def test_the_composer_prefills_recipients_and_shows_quote_and_signatures(client, thread):
    page = html.unescape(client.get(f"/threads/{thread.id}").get_data(as_text=True))
    # To: the Reply-To of Jan's mail; CC: his CC without our own mailbox.
    assert 'name="to" value="jan.werk@example.nl"' in page
    assert 'name="cc" value="piet@example.nl"' in page
    assert 'name="bcc" value=""' in page
    assert "schreef Jan Jansen: “Kunnen jullie de offerte opnieuw sturen?”" in page
    assert "schreef Jan Jansen:" in page  # the customer reads Dutch
    assert AGENT_SIGNATURE in page and MAILBOX_SIGNATURE in page
    assert 'type="file" name="attachments"' in page


def test_an_email_reply_carries_files_cc_bcc_quote_and_signatures(app, client, auth, graph, thread):
    response = post_reply(
        client,
        auth,
        thread,
        files=[("offerte.pdf", PDF), ("schets.png", PNG)],
        content="Hierbij de offerte.\n\nTot morgen!",
        to="jan.werk@example.nl",
        cc="piet@example.nl; Boekhouding <boekhouding@example.nl>",
        bcc="archief@chargecars.nl",
        quote_offered="1",
        quote="1",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    (sent,) = settle(app, _sent_replies)

    (reply,) = graph.requests_to("/messages/AAMkAD-jan/reply", "POST")
    message = reply.json()["message"]
    assert message["toRecipients"] == [{"emailAddress": {"address": "jan.werk@example.nl"}}]
    assert message["ccRecipients"] == [
        {"emailAddress": {"address": "piet@example.nl"}},
        {"emailAddress": {"address": "boekhouding@example.nl"}},
    ]
    assert message["bccRecipients"] == [{"emailAddress": {"address": "archief@chargecars.nl"}}]
    files = [
        (a["@odata.type"], a["name"], a["contentType"], base64.b64decode(a["contentBytes"]))
        for a in message["attachments"]
    ]
    assert files == [
        ("#microsoft.graph.fileAttachment", "offerte.pdf", "application/pdf", PDF),
        ("#microsoft.graph.fileAttachment", "schets.png", "image/png", PNG),
    ]
    body = message["body"]
    assert body["contentType"] == "HTML"
    content = body["content"]
    # The reply, the agent's signature, the mailbox's, then Jan's mail quoted.
    order = ["Hierbij de offerte.", "Anouk de Vries<br>Klantenservice", MAILBOX_SIGNATURE]
    order += ["schreef Jan Jansen:", "<blockquote", "Kunnen jullie de offerte opnieuw sturen?"]
    positions = [content.index(part) for part in order]
    assert positions == sorted(positions)

    # Stored on the message: the addressees and the files, which the timeline shows.
    assert sent.recipient_external["cc"] == ["piet@example.nl", "boekhouding@example.nl"]
    assert [a["filename"] for a in sent.attachments] == ["offerte.pdf", "schets.png"]
    timeline = html.unescape(client.get(f"/threads/{thread.id}/timeline").get_data(as_text=True))
    assert "To: jan.werk@example.nl · CC: piet@example.nl, boekhouding@example.nl" in timeline
    assert "BCC: archief@chargecars.nl" in timeline
    assert f"/attachments/{sent.id}/0" in timeline and "offerte.pdf" in timeline
    download = client.get(f"/attachments/{sent.id}/0")
    assert download.status_code == 200 and download.data == PDF


def test_leaving_the_quote_out_and_replying_without_fields(app, client, auth, graph, thread):
    assert (
        post_reply(
            client,
            auth,
            thread,
            content="Kort antwoord.",
            quote_offered="1",
            to="jan.werk@example.nl",
            cc="",
            bcc="",
        ).status_code
        == 200
    )
    settle(app, _sent_replies)
    (reply,) = graph.requests_to("/reply", "POST")
    content = reply.json()["message"]["body"]["content"]
    assert "Kort antwoord." in content and MAILBOX_SIGNATURE in content
    assert "blockquote" not in content and "schreef" not in content
    assert "ccRecipients" not in reply.json()["message"]


@pytest.mark.parametrize(
    ("files", "form", "error"),
    [
        (
            [("offerte.exe", b"MZ\x90\x00")],
            {},
            "offerte.exe: this file type is not allowed (allowed: PDF, JPEG, PNG, Word, Excel, "
            "PowerPoint, TXT, CSV).",
        ),
        (
            [("deel1.pdf", PDF + b"0" * (2 * MB)), ("deel2.pdf", PDF + b"0" * (2 * MB))],
            {},
            "The attached files are 4 MB together; the limit for an e-mail is 3 MB.",
        ),
        (
            [("groot.pdf", PDF + b"0" * int(3.5 * MB))],
            {},
            "groot.pdf is 3.5 MB; the limit is 3 MB.",
        ),
        (
            [("factuur.pdf", b"MZ\x90\x00 not a pdf")],
            {},
            "factuur.pdf: the content is not what its name says (.pdf).",
        ),
        (
            [("offerte.pdf", PDF)],
            {"cc": "piet@example.nl, jan@"},
            "CC: 'jan@' is not an e-mail address.",
        ),
        (
            [],
            {"to": "jan.werk@example.nl", "bcc": "archief@chargecars"},
            "BCC: 'archief@chargecars' is not an e-mail address.",
        ),
        ([], {"to": ""}, "To: add at least one e-mail address."),
    ],
)
def test_a_refused_file_or_address_sends_and_stores_nothing(
    app, client, auth, graph, thread, tmp_path, files, form, error
):
    form = {"to": "jan.werk@example.nl", **form}
    response = post_reply(client, auth, thread, files=files, content="Zie bijlage.", **form)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert error in page
    # The files the agent had chosen are kept by the browser; the typed text stays.
    assert "Zie bijlage." in page

    settle(app, lambda: True)
    outgoing = db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    ).all()
    assert outgoing == []
    assert not (tmp_path / "attachments").exists() or not any((tmp_path / "attachments").iterdir())
    assert graph.requests_to("/reply") == [] and graph.requests_to("/sendMail") == []
