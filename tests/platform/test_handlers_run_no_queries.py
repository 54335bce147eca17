"""Web handlers ask their feature's services; they run no database queries themselves.

Read from the source: every module under app/ that defines a ``Blueprint(`` is a
handler module, and a query written in one (``db.session.get``, ``sa.select``,
``Model.query``, ...) belongs in a service module of its feature, under a name
that says what it finds. A new route that queries inline fails here, naming the
file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
BLUEPRINT = re.compile(r"\bBlueprint\(")
QUERY = re.compile(
    r"\bdb\.session\.(execute|scalar|scalars|get|query)\b"
    r"|\b(sa|db)\.select\("
    r"|\b[A-Z]\w*\.query\b"
)


def _handler_modules() -> list[tuple[Path, str]]:
    modules = []
    for path in sorted(APP.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if BLUEPRINT.search(text):
            modules.append((path.relative_to(APP.parent), text))
    return modules


def _queries(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if QUERY.search(line) and not line.lstrip().startswith("#")
    ]


def test_handler_modules_run_no_queries():
    offences = [
        f"{relative.as_posix()}:{number}: {line}"
        for relative, text in _handler_modules()
        for number, line in _queries(text)
    ]
    assert offences == [], "queries belong in the feature's services:\n" + "\n".join(offences)


def test_the_guard_sees_what_it_looks_for():
    # A scan that matched nothing because of a broken pattern would pass silently.
    for line in (
        "    thread = db.session.get(CommunicationThread, thread_id)",
        "    rows = db.session.scalars(statement).all()",
        "    db.session.execute(sa.text('SELECT 1'))",
        "        sa.select(CommunicationMessage)",
        "        db.select(TechnicianAbsence)",
        "    users = User.query.filter_by(name=name).all()",
    ):
        assert QUERY.search(line), line
    for line in ("    db.session.rollback()", "    commit()", "url_for('x', **view.query)"):
        assert not QUERY.search(line), line
    handlers = [relative.as_posix() for relative, _text in _handler_modules()]
    assert "app/platform/health/routes.py" in handlers
    assert "app/conversations/workspace/web/api.py" in handlers
