"""Web handlers pass what was typed on; they build no errors dict themselves.

Read from the source: every module under app/ that defines a ``Blueprint(`` is a
handler module. Checking a form or a query string (an ``errors`` dict of field ->
message, range and length checks) belongs in the feature's form or service
module, in one function that returns the values or raises or returns the errors;
the handler renders or answers what it gets. A handler that starts an errors
dict (``errors = {}``) or fills one (``errors[...] = ...``) fails here, naming
the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
BLUEPRINT = re.compile(r"\bBlueprint\(")
BUILDS_ERRORS = re.compile(
    r"^\s*errors\s*(:[^=]+)?=\s*(\{\s*\}|dict\(\s*\))\s*(#.*)?$"  # errors = {}, errors: dict = {}
    r"|\berrors\[[^\]]+\]\s*=(?!=)"  # errors["name"] = ...
)


def _handler_modules() -> list[tuple[Path, str]]:
    modules = []
    for path in sorted(APP.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if BLUEPRINT.search(text):
            modules.append((path.relative_to(APP.parent), text))
    return modules


def _errors_built(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if BUILDS_ERRORS.search(line) and not line.lstrip().startswith("#")
    ]


def test_handler_modules_build_no_errors_dict():
    offences = [
        f"{relative.as_posix()}:{number}: {line}"
        for relative, text in _handler_modules()
        for number, line in _errors_built(text)
    ]
    assert offences == [], (
        "checking input belongs in the feature's form or service module:\n" + "\n".join(offences)
    )


def test_the_guard_sees_what_it_looks_for():
    # A scan that matched nothing because of a broken pattern would pass silently.
    for line in (
        "    errors = {}",
        "    errors: dict[str, str] = {}",
        "    errors = dict()",
        '        errors["reason"] = gettext("Reason: between 1 and 200 characters")',
        '            errors[f"{key}_start"] = message',
        "            errors[name] = f'{label}: {exc}'",
    ):
        assert BUILDS_ERRORS.search(line), line
    for line in (
        "    errors = exc.fields",
        "        errors=errors or {},",
        "        errors={},",
        '    return render_template("page.html", errors={}, active="x")',
        "    errors: dict[str, str] | None = None",
        '    if errors["status"] == "x":',
        '    context["errors"] = exc.fields',
        "            form[name].errors = [message]",
    ):
        assert not BUILDS_ERRORS.search(line), line
    handlers = [relative.as_posix() for relative, _text in _handler_modules()]
    assert "app/orders/planning/routes.py" in handlers
    assert "app/conversations/tasks/api.py" in handlers
