"""On a phone-sized screen, an agent moves cards, completes one with notes, filters, creates."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.conversations.tasks.services import create_task, publish_task_outcome
from app.platform.extensions import db
from app.platform.models import InternalTask
from app.platform.models.enums import Priority, TaskStatus
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide on a 375px screen"


def test_agent_works_the_board_on_a_phone(live_server, browser, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    db.session.add_all(
        [
            InternalTask(
                task_title="Klant terugbellen over laadpaal die rood knippert",
                assigned_to_user_id=agent.id,
                priority=Priority.URGENT,
                status=TaskStatus.OPEN,
                lock_version=1,
                reminder_settings={},
            ),
            InternalTask(
                task_title="Offerte nasturen",
                status=TaskStatus.OPEN,
                lock_version=1,
                reminder_settings={},
            ),
        ]
    )
    db.session.commit()

    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "agent@switchboard.test")
        expect(page).to_have_url(re.compile(r"/inbox$"))
        page.goto(f"{live_server.url}/tasks")
        board = page.get_by_test_id("task-board")
        open_column = board.locator('section[data-status="open"]')
        expect(open_column.get_by_test_id("task-card")).to_have_count(2)
        _no_sideways_scroll(page)

        # Move a card through htmx: the board is swapped in place, the URL stays.
        card = open_column.get_by_test_id("task-card").filter(has_text="Offerte nasturen")
        card.get_by_role("button", name="Move Offerte nasturen to In progress").click()
        in_progress = board.locator('section[data-status="in_progress"]')
        expect(in_progress).to_contain_text("Offerte nasturen")
        expect(page.get_by_test_id("task-notice")).to_have_text(
            "Moved “Offerte nasturen” to In progress."
        )
        expect(page).to_have_url(re.compile(r"/tasks$"))

        # Complete it, with notes.
        card = in_progress.get_by_test_id("task-card").filter(has_text="Offerte nasturen")
        card.get_by_text("Complete…").click()
        card.get_by_label("Completion notes").fill("Verstuurd per e-mail")
        card.get_by_role("button", name="Mark completed").click()
        completed = board.locator('section[data-status="completed"]')
        expect(completed).to_contain_text("Verstuurd per e-mail")
        _no_sideways_scroll(page)

        # Filter: only mine, URL pushed.
        page.get_by_role("link", name="Mine", exact=True).click()
        expect(page).to_have_url(re.compile(r"filter=mine"))
        expect(board.get_by_test_id("task-card")).to_have_count(1)

        # Create: an invalid time is named, then a valid task lands on the board.
        page.goto(f"{live_server.url}/tasks/new")
        _no_sideways_scroll(page)
        page.get_by_label("Title").fill("Monteur inplannen")
        page.get_by_label("Due date").fill("2030-01-15")
        page.get_by_label("Remind the assignee (minutes before due)").fill("30")
        page.get_by_role("button", name="Create task").click()
        expect(page.get_by_test_id("form-errors")).to_contain_text("needs a due date and time")
        page.get_by_label("Due time").fill("09:30")
        page.get_by_role("button", name="Create task").click()
        expect(page).to_have_url(re.compile(r"/tasks$"))
        expect(page.get_by_text("Task “Monteur inplannen” created.")).to_be_visible()
        expect(page.get_by_test_id("task-board")).to_contain_text("Tue 15 Jan 09:30")
    finally:
        context.close()


def test_the_board_catches_up_when_the_live_connection_comes_back(live_server, browser, make_user):
    """A task given while the agent's connection was down: once it is back, the page
    resumes its numbered live events (app.platform.live_queues), hears the missed
    ``task:assigned`` and asks for the board again, which shows it."""
    agent = make_user("agent", email="agent@switchboard.test")
    lead = make_user("team_lead")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "agent@switchboard.test")
        page.goto(f"{live_server.url}/tasks")
        # The server has named the page's queue: there is one to resume.
        page.wait_for_function("() => window.switchboardSocket?.live.queue")
        _a_task_given_while_away_shows_once_back(page, lead, agent)
        assert page.evaluate("() => window.switchboardSocket.live.last") >= 1  # resumed
    finally:
        context.close()


def test_the_board_catches_up_when_the_first_connection_dropped_before_its_queue_was_named(
    live_server, browser, make_user
):
    """The connection is lost before the server's hello names the page's queue: there
    is nothing to resume, so the page asks for the board again once it is back."""
    agent = make_user("agent", email="agent@switchboard.test")
    lead = make_user("team_lead")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    hellos_held = []

    def without_the_first_hello(ws):
        server = ws.connect_to_server()

        def to_page(message):
            if "live:queue" in str(message) and not hellos_held:
                hellos_held.append(message)  # lost with the connection
                return
            ws.send(message)

        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/socket\.io/"), without_the_first_hello)
    try:
        sign_in(page, live_server.url, "agent@switchboard.test")
        page.goto(f"{live_server.url}/tasks")
        page.wait_for_function("() => window.switchboardSocket?.connected")
        page.wait_for_timeout(300)
        assert hellos_held
        assert page.evaluate("() => window.switchboardSocket.live.queue") is None
        _a_task_given_while_away_shows_once_back(page, lead, agent)
    finally:
        context.close()


def _a_task_given_while_away_shows_once_back(page, lead, agent) -> None:
    board = page.get_by_test_id("task-board")
    expect(board.get_by_test_id("task-card")).to_have_count(0)
    page.evaluate("() => window.switchboardSocket.disconnect()")
    outcome = create_task(
        lead, {"task_title": "Meterkastfoto beoordelen", "assigned_to_user_id": str(agent.id)}
    )
    db.session.commit()
    publish_task_outcome(outcome)
    page.wait_for_timeout(300)  # nothing arrives: the page is not listening
    expect(board.get_by_test_id("task-card")).to_have_count(0)
    page.evaluate("() => window.switchboardSocket.connect()")

    expect(board.get_by_test_id("task-card")).to_have_count(1)
    expect(board).to_contain_text("Meterkastfoto beoordelen")
