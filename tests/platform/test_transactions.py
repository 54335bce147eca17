"""After the commit: follow-ups and domain events run then, never after a rollback."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.platform.events import DomainEvent, listeners_of, listens_to
from app.platform.extensions import db
from app.platform.transactions import after_commit, commit, publish
from tests.support import factories


def test_runs_after_commit_only(app):
    ran = []
    factories.contact()
    after_commit(lambda: ran.append("done"))
    assert ran == []
    commit()
    assert ran == ["done"]
    commit()
    assert ran == ["done"]


def test_rollback_drops_the_work(app):
    ran = []
    factories.contact()
    after_commit(lambda: ran.append("nope"))
    db.session.rollback()
    commit()
    assert ran == []


def test_a_rolled_back_savepoint_keeps_the_rest(app):
    ran = []
    factories.contact()
    after_commit(lambda: ran.append("kept"))
    try:
        with db.session.begin_nested():
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
    except sa.exc.DBAPIError:
        pass
    commit()
    assert ran == ["kept"]


@dataclass(frozen=True)
class Happened(DomainEvent):
    what: str


heard: list[str] = []


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg's DeadlockDetected carries it


@listens_to(Happened)
def _first_listener(event: Happened) -> None:
    if event.what == "boom":
        raise RuntimeError("listener failed")
    if event.what.startswith("deadlock") and heard.count("tried") < int(event.what[-1]):
        heard.append("tried")
        raise sa.exc.OperationalError("UPDATE …", {}, _Deadlock())
    heard.append(f"first:{event.what}")


@listens_to(Happened)
def _second_listener(event: Happened) -> None:
    heard.append(f"second:{event.what}")


def test_events_reach_their_listeners_after_the_commit_in_order(app):
    heard.clear()
    factories.contact()
    publish(Happened("a"))
    publish(Happened("b"))
    assert heard == []
    commit()
    assert heard == ["first:a", "second:a", "first:b", "second:b"]


def test_a_rollback_drops_the_events(app):
    heard.clear()
    factories.contact()  # events are published by writes, inside a transaction
    publish(Happened("never"))
    db.session.rollback()
    commit()
    assert heard == []


def test_a_failing_listener_neither_undoes_the_commit_nor_silences_the_others(app, caplog):
    heard.clear()
    contact = factories.contact()
    publish(Happened("boom"))
    commit()
    assert heard == ["second:boom"]
    assert "listener" in caplog.text and "failed" in caplog.text
    db.session.expire_all()
    assert db.session.get(type(contact), contact.id) is not None


def test_a_listener_that_loses_a_deadlock_is_run_again(app, caplog):
    """Two workers' listeners locking the same rows in another order: one is PostgreSQL's
    victim, and runs again (a conversation's routing was once lost so)."""
    heard.clear()
    factories.contact()
    publish(Happened("deadlock 1"))
    commit()
    assert heard == ["tried", "first:deadlock 1", "second:deadlock 1"]
    assert "running it again" in caplog.text


def test_a_listener_that_keeps_losing_gives_up_after_three_tries(app, caplog):
    heard.clear()
    factories.contact()
    publish(Happened("deadlock 5"))
    commit()
    assert heard == ["tried", "tried", "tried", "second:deadlock 5"]
    assert "failed on" in caplog.text


def test_a_failing_follow_up_is_logged_and_the_next_still_runs(app, caplog):
    ran = []

    def broken():
        raise ConnectionError("redis away")

    after_commit(broken)
    after_commit(lambda: ran.append("next"))
    commit()
    assert ran == ["next"]
    assert "redis away" in caplog.text


def test_a_listener_registers_once_however_often_its_module_is_imported():
    listens_to(Happened)(_second_listener)
    assert listeners_of(Happened).count(_second_listener) == 1
