"""Inbox search: phone numbers in every common Dutch form and Dutch stemming.

The same cases run on whichever backend the suite runs on (SQLite by default,
PostgreSQL with TEST_DATABASE_URL), so both must answer alike.
"""

from __future__ import annotations

import pytest

from app.conversations.inbox.search import finds_few, rebuild_search_documents
from app.conversations.inbox.search_terms import PhoneTerm, WordTerm, parse_query, phone_lexemes
from app.conversations.inbox.services import InboxQuery, list_threads
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, TokenKind
from tests.support import factories


@pytest.fixture
def threads(app, make_user):
    """A mobile, a landline and an unrelated customer; two stemming variants."""
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    mobile = factories.contact(display_name="Sanne Jansen", phone="+31688493461")
    landline = factories.contact(display_name="Bram Visser", phone="+31201234567")
    other = factories.contact(display_name="Eva de Boer", phone="+31612345678")
    found = {
        "mobile": factories.thread(channel, mobile, thread_subject="Vraag over de planning"),
        "landline": factories.thread(channel, landline, thread_subject="Offerte"),
        "singular": factories.thread(channel, other, thread_subject="Storing"),
        "plural": factories.thread(channel, other, thread_subject="Zakelijk"),
        "order": factories.thread(channel, other, thread_subject="Levering"),
        "order_number": factories.thread(channel, None, thread_subject="Bestelling CC-2026-00060"),
    }
    factories.message(found["singular"], "Mijn laadpaal geeft een rood lampje.")
    factories.message(found["plural"], "Wij willen twee laadpalen in de parkeergarage.")
    factories.message(found["order"], "Levering gepland op 12-03-2024, ordernummer 4471.")
    db.session.flush()
    rebuild_search_documents()
    db.session.commit()
    return make_user("manager"), found


def _found(viewer, found, q):
    names = {thread.id: name for name, thread in found.items()}
    return {names[t.id] for t in list_threads(viewer, InboxQuery(q=q)).threads}


@pytest.mark.parametrize(
    "q",
    [
        "06-88493461",
        "06 88493461",
        "+31 6 88493461",
        "+31 (0)6-88493461",
        "0031688493461",
        "0031 6 884 934 61",
        "0688493461",
        "+31688493461",
        "(06) 884.934.61",
        "88493461",
        "849346",
        "0688493",
        "Jansen 06-88493461",
    ],
)
def test_every_common_way_of_writing_a_number_finds_the_contact(threads, q):
    viewer, found = threads
    assert _found(viewer, found, q) == {"mobile"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("020-1234567", {"landline"}),
        ("+31 20 123 4567", {"landline"}),
        ("1234567", {"landline", "singular", "plural", "order"}),  # both numbers hold it
        ("06-12345678", {"singular", "plural", "order"}),
        ("Visser 06-88493461", set()),
        ("06-99999999", set()),
    ],
)
def test_a_number_finds_only_the_contacts_it_belongs_to(threads, q, expected):
    viewer, found = threads
    assert _found(viewer, found, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("laadpalen", {"singular", "plural"}),
        ("laadpaal", {"singular", "plural"}),
        ("de laadpaal", {"singular", "plural"}),
        ("laadpalen parkeergarage", {"plural"}),
        ("jansen", {"mobile"}),
        ("jans", {"mobile"}),
        ("12-03-2024", {"order"}),
        ("4471", {"order"}),
        ("CC-2026-00060", {"order_number"}),
        ("2026", {"order_number"}),  # inside an order number, on PostgreSQL too
        ("00060", {"order_number"}),
        ("xylofoonles", set()),
    ],
)
def test_words_are_stemmed_the_dutch_way_on_every_backend(threads, q, expected):
    viewer, found = threads
    assert _found(viewer, found, q) == expected


def test_the_threads_api_searches_the_same_way(client, threads):
    viewer, found = threads
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=viewer.id)
    db.session.commit()
    response = client.get(
        "/api/communication/threads?q=06-88493461", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json["data"]] == [str(found["mobile"].id)]


def test_queries_are_split_into_numbers_and_words():
    assert parse_query("Jansen 06-88493461") == [
        PhoneTerm(("0688493461", "31688493461")),
        WordTerm("jansen"),
    ]
    assert parse_query("+31 (0)6 88493461") == [PhoneTerm(("0688493461", "31688493461"))]
    assert parse_query("849346") == [PhoneTerm(("849346",))]
    # A short number is a word; a dashed date may be no phone number, so its groups count too.
    assert parse_query("order 4471") == [WordTerm("order"), WordTerm("4471")]
    assert parse_query("12-03-2024") == [PhoneTerm(("12032024",), "12-03-2024")]
    assert parse_query("de het") == []  # stop words only: nothing to search


def test_the_document_holds_the_endings_of_the_national_number():
    assert phone_lexemes("+31688493461") == {
        "31688493461",
        "0688493461",
        "688493461",
        "88493461",
        "8493461",
        "493461",
    }
    assert phone_lexemes(None) == set()


@pytest.mark.parametrize("sort", ["urgency", "newest"])
def test_a_specific_search_keeps_the_list_order_and_its_pages(threads, sort):
    # A phone number is asked of the full-text index and sorted, not found by walking
    # the order's index (finds_few); the order and the pages must not change with it.
    viewer, _ = threads
    channel = factories.channel(ChannelType.SMS)
    contact = factories.contact(display_name="Lotte Bakker", phone="+31655501234")
    for n in range(5):
        factories.thread(channel, contact, thread_subject=f"Vraag {n}")
    db.session.flush()
    rebuild_search_documents()
    db.session.commit()
    assert finds_few("06-55501234") and not finds_few("laadpaal")

    everything = list_threads(viewer, InboxQuery(q="Bakker", sort=sort), limit=50).threads
    shown, cursor = [], None
    while True:
        page = list_threads(viewer, InboxQuery(q="06-55501234", sort=sort), cursor=cursor, limit=2)
        shown += page.threads
        if not (cursor := page.next_cursor):
            break
    assert [t.id for t in shown] == [t.id for t in everything]
    assert len(shown) == 5


def test_what_we_write_rides_on_the_threads_update_and_every_part_is_found(app, make_user):
    """A reply's text and a second text appended before the same flush (a reply's
    file names) both reach the document: the second goes after the first, not in
    its place; and no statement of its own is spent on either (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the search document is PostgreSQL's")
    from sqlalchemy import event

    from app.conversations.core.messages import post_outbound
    from app.conversations.inbox.search import append_on_flush

    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(display_name="Kees Smit", phone="+31611112222")
    thread = factories.thread(channel, contact, thread_subject="Aansluiting")
    db.session.commit()
    # Loaded, as a writer has them: loading one later would flush before it.
    phone, channel_id = contact.phone, channel.id
    db.session.refresh(thread)
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        append_on_flush(thread, "meterkastfoto")
        post_outbound(
            thread,
            channel_id=channel_id,
            body="Uw monteur komt donderdag.",
            recipient={"phone": phone},
            send=False,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    db.session.commit()
    updates = [s for s in statements if s.startswith("UPDATE communication_thread")]
    assert len(updates) == 1, [s[:50] for s in statements]  # the thread's own
    viewer = make_user("manager")
    found = {"thread": thread}
    assert _found(viewer, found, "meterkastfoto") == {"thread"}
    assert _found(viewer, found, "donderdag") == {"thread"}
