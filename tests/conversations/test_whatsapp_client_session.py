"""The Graph API client keeps one session per thread, and no cookies between calls."""

from __future__ import annotations

import threading

import pytest

from app.conversations.channels.whatsapp import client
from app.conversations.channels.whatsapp.client import WhatsAppApi
from tests.fakes.whatsapp import ACCESS_TOKEN, FakeWhatsApp


@pytest.fixture
def graph():
    server = FakeWhatsApp().start()
    yield server
    server.stop()


def _api(graph) -> WhatsAppApi:
    return WhatsAppApi(
        {
            "WHATSAPP_API_BASE": graph.url,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": "123",
        }
    )


def _send(api: WhatsAppApi) -> dict:
    body = {"messaging_product": "whatsapp", "to": "+31612345678", "type": "text"}
    return api.post_json("123/messages", {**body, "text": {"body": "Hallo"}})


def test_one_thread_sends_through_one_session_and_each_thread_has_its_own(graph):
    api = _api(graph)
    _send(api)
    mine = client._session()
    _send(api)
    assert client._session() is mine

    theirs = []
    other = threading.Thread(target=lambda: (_send(api), theirs.append(client._session())))
    other.start()
    other.join()
    assert theirs and theirs[0] is not mine
    assert len(graph.requests_to("/messages", "POST")) == 3


def test_a_cookie_the_api_sets_is_not_sent_with_the_next_call(graph):
    api = _api(graph)
    graph.answer_next(
        200,
        {"messages": [{"id": "wamid.cookie"}]},
        headers={"Set-Cookie": "datr=abc123; Path=/"},
    )
    assert _send(api)["messages"][0]["id"] == "wamid.cookie"
    _send(api)

    first, second = graph.requests_to("/messages", "POST")[-2:]
    assert "Cookie" not in second.headers and "cookie" not in second.headers
    assert first.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
