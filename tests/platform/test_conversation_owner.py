"""The conversation has one owner, and one commit helper ends a unit of work.

Read from the source, so a new feature that writes a thread or a message by
hand, or commits past the after-commit work, fails here instead of drifting.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
CONSTRUCTOR = re.compile(r"\b(CommunicationThread|CommunicationMessage)\(")
RAW_COMMIT = re.compile(r"\bdb\.session\.commit\(\)")
# The owner, the models that define the classes, and demo data loaded in bulk.
OWNER_OR_EXEMPT = ("conversations/", "platform/models/", "seed/")


def _sources(exempt: tuple[str, ...]):
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP)
        if relative.as_posix().startswith(exempt):
            continue
        yield relative, path.read_text(encoding="utf-8")


def _offences(pattern: re.Pattern, exempt: tuple[str, ...]) -> list[str]:
    found = []
    for relative, text in _sources(exempt):
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                found.append(f"app/{relative}:{number}: {line.strip()}")
    return found


def test_only_the_conversation_owner_constructs_threads_and_messages():
    assert _offences(CONSTRUCTOR, OWNER_OR_EXEMPT) == []


def test_units_of_work_end_with_the_commit_helper():
    # app/platform/transactions.py is the helper itself; seed data loads in bulk.
    offences = [o for o in _offences(RAW_COMMIT, ("seed/",)) if "transactions.py" not in o]
    assert offences == []


def test_the_guards_see_what_they_look_for():
    # A scan that matched nothing because of a broken pattern would pass silently.
    assert CONSTRUCTOR.search("thread = CommunicationThread(thread_subject=x)")
    assert RAW_COMMIT.search("    db.session.commit()")
    owner = [r for r, text in _sources(()) if CONSTRUCTOR.search(text)]
    assert any(r.parts[0] == "conversations" for r in owner)
