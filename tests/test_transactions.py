"""after_commit: work runs after a commit, never after a rollback."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.transactions import after_commit, commit
from tests import factories


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
