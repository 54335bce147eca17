"""The error code reference lists exactly what the partner API answers.

The registry (app/orders/partners/error_codes.py) is held to the source: every module
a partner route can reach (the routes of ``/api/v1/partners/…`` and of the
partner status webhook, and everything they import from ``app``) is read as
source, and every error it can answer (``ApiError(status, "code", …)``, any
other ``Error(status, "code", …)`` such as the status webhook's rejections,
``error_body("code", …)``, ``abort(status)``, an exception class's ``status``
and ``code``, a ``(status, "code")`` in a table) must be in the registry with that
status; every code in the registry must be answered somewhere. Werkzeug's own
answers on those paths (no such path, wrong method, too large, a crash) are
asked for by real requests. docs/partners.md's table is the registry's.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.exceptions import InternalServerError, default_exceptions

from app.orders.partners.error_codes import BY_CODE, ERROR_CODES, docs_table
from app.platform.json_api.errors import http_exception_as_json
from tests.support.partner_support import make_partner

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "partners.md"
PARTNER_PATHS = ("/api/v1/partners/", "/api/v1/webhooks/partner-status/")
ERROR_CALLS = {"ApiError", "json_error"}
# Turns Werkzeug's errors into JSON, code from the exception's name: what it
# answers on partner paths is asked for by real requests (werkzeug_answers).
WERKZEUG_TO_JSON = "app.platform.json_api.errors"

# Codes other branches announced and the registry already lists
# (h-sandbox, h-keys, h-orderapi). The lead empties this at merge: the test
# below fails once one of them is answered, naming it.
AWAITING_MERGE: set[str] = set()


@dataclass(frozen=True)
class Answer:
    code: str
    status: int | None  # None: set apart from the call (error_body)
    where: str


def _module_path(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def _app_imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "app" or node.module.startswith("app."):
                found.add(node.module)
                # ``from app.orders.partners import idempotency`` imports a module.
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {module for module in found if _module_path(module)}


def reachable_modules(view_modules: set[str]) -> dict[str, ast.AST]:
    """The view modules and every ``app`` module they import, transitively."""
    trees: dict[str, ast.AST] = {}
    todo = list(view_modules)
    while todo:
        module = todo.pop()
        if module in trees:
            continue
        path = _module_path(module)
        trees[module] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        todo.extend(_app_imports(trees[module]))
    return trees


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _constant(node: ast.expr | None, kind: type):
    if isinstance(node, ast.Constant) and isinstance(node.value, kind):
        return node.value
    return None


def _is_error_status(value) -> bool:
    return isinstance(value, int) and 400 <= value < 600


def _declared_answers(module: str, tree: ast.AST) -> list[Answer]:
    """Codes written down rather than passed to a call: an exception class's
    ``status = 409`` and ``code = "order_locked"``, or a ``(409, "order_locked")``
    in a table of answers."""
    answers = []
    for node in ast.walk(tree):
        where = f"{module}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ClassDef):
            values = {
                target.id: statement.value.value
                for statement in node.body
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                for target in statement.targets
                if isinstance(target, ast.Name)
            }
            code, status = values.get("code"), values.get("status", values.get("status_code"))
            if isinstance(code, str):
                answers.append(Answer(code, status if _is_error_status(status) else None, where))
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
            status, code = _constant(node.elts[0], int), _constant(node.elts[1], str)
            if _is_error_status(status) and code and re.fullmatch(r"[a-z][a-z_]*", code):
                answers.append(Answer(code, status, where))
    return answers


def answers_in(module: str, tree: ast.AST) -> tuple[list[Answer], list[str]]:
    """The errors ``module`` can answer, and the calls whose code cannot be read."""
    answers, unreadable = _declared_answers(module, tree), []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        name, where = _name(call.func), f"{module}:{call.lineno}"
        status = _constant(_argument(call, 0, "status"), int)
        code = _constant(_argument(call, 1, "code"), str)
        if name == "abort" and status is not None:
            answers.append(Answer(_werkzeug_code(status), status, where))
        elif name == "error_body" and _constant(_argument(call, 0, "code"), str):
            answers.append(Answer(_constant(_argument(call, 0, "code"), str), None, where))
        elif _is_error_status(status) and code is not None:
            # ApiError, json_error, and an exception a route turns into one
            # (StatusUpdateRejected(409, "illegal_transition", …)).
            answers.append(Answer(code, status, where))
        elif name in ERROR_CALLS:
            passed_on = _argument(call, 1, "code")
            # ``ApiError(exc.status, exc.code, …)`` passes on a code read above.
            if not (isinstance(passed_on, ast.Attribute) and passed_on.attr == "code"):
                unreadable.append(where)
    return answers, unreadable


def _werkzeug_code(status: int) -> str:
    return http_exception_as_json(default_exceptions[status]()).get_json()["error"]["code"]


def partner_view_modules(app) -> set[str]:
    modules = {
        app.view_functions[rule.endpoint].__module__
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PARTNER_PATHS)
    }
    assert (
        "app.orders.partners.web.api" in modules and "app.orders.partners.web.webhooks" in modules
    )
    return modules


def source_answers(app) -> tuple[list[Answer], list[str]]:
    answers, unreadable = [], []
    for module, tree in reachable_modules(partner_view_modules(app)).items():
        found, unread = answers_in(module, tree)
        answers += found
        unreadable += [] if module == WERKZEUG_TO_JSON else unread
    return answers, unreadable


def werkzeug_answers(app, client) -> list[Answer]:
    """What Werkzeug answers on a partner path, asked for by real requests."""
    partner = make_partner()
    base = f"/api/v1/partners/{partner.id}"
    asked = [
        ("no such path", client.get(f"{base}/no-such-thing", headers=partner.headers)),
        ("wrong method", client.delete(f"{base}/orders", headers=partner.headers)),
        (
            "over MAX_CONTENT_LENGTH",
            client.post(
                f"{base}/orders",
                data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                headers={**partner.headers, "Content-Type": "application/json"},
            ),
        ),
    ]
    answers = []
    for what, response in asked:
        assert response.is_json, what
        answers.append(Answer(response.get_json()["error"]["code"], response.status_code, what))
    assert [a.status for a in answers] == [404, 405, 413]
    # A crash: tests propagate exceptions, so ask the handler production uses.
    with app.test_request_context(f"{base}/orders"):
        crashed = http_exception_as_json(InternalServerError())
    answers.append(Answer(crashed.get_json()["error"]["code"], crashed.status_code, "a crash"))
    return answers


def test_every_answered_code_is_in_the_registry_with_its_status(app, client):
    answers, unreadable = source_answers(app)
    answers += werkzeug_answers(app, client)
    assert not unreadable, (
        f"error codes that are not a literal at {unreadable}: write the code out, "
        "so this test (and the error reference) can see it"
    )
    missing = sorted({f"{a.code} ({a.where})" for a in answers if a.code not in BY_CODE})
    assert not missing, (
        "answered by the partner API but missing from app/orders/partners/error_codes.py: "
        f"{missing}; "
        "add an ErrorCode line and regenerate docs/partners.md"
    )
    wrong_status = sorted(
        f"{a.code} {a.status} ({a.where})"
        for a in answers
        if a.status is not None and a.status not in BY_CODE[a.code].statuses
    )
    assert not wrong_status, f"answered with a status the registry does not list: {wrong_status}"


def test_every_registered_code_is_answered(app, client):
    answers, _ = source_answers(app)
    answers += werkzeug_answers(app, client)
    answered = {a.code for a in answers}
    now_answered = sorted(AWAITING_MERGE & answered)
    assert not now_answered, f"{now_answered} are answered now: remove them from AWAITING_MERGE"
    unanswered = sorted(set(BY_CODE) - answered - AWAITING_MERGE)
    assert not unanswered, f"in the registry but answered nowhere: {unanswered}"
    for entry in ERROR_CODES:
        statuses = {a.status for a in answers if a.code == entry.code}
        if statuses and None not in statuses:
            assert statuses == set(entry.statuses), (entry.code, statuses)


def test_the_scan_sees_what_a_route_raises(app):
    """The scan is not vacuous: known answers of today's routes are found where they are."""
    answers, _ = source_answers(app)
    found = {(a.code, a.status, a.where.partition(":")[0]) for a in answers}
    assert ("missing_api_key", 401, "app.orders.partners.access") in found
    assert ("illegal_transition", 409, "app.orders.partners.status_webhook") in found
    assert ("malformed_json", 400, "app.platform.webhooks.recording") in found
    assert ("order_conflict", None, "app.orders.partners.web.api") in found


@pytest.mark.parametrize(
    "source, expected",
    [
        ('raise ApiError(418, "teapot", "x")', [("teapot", 418)]),
        ('raise ApiError(status=409, code="order_locked", message="x")', [("order_locked", 409)]),
        ('raise Rejected(422, "unknown_status", "x", {})', [("unknown_status", 422)]),
        ("abort(405)", [("method_not_allowed", 405)]),
        ('body = error_body("order_conflict", "x")', [("order_conflict", None)]),
        ("raise ApiError(exc.status, exc.code, exc.message)", []),
        (
            'class OrderLocked(Exception):\n    status = 409\n    code = "order_locked"',
            [("order_locked", 409)],
        ),
        ('ANSWERS = {Locked: (409, "order_locked", "x")}', [("order_locked", 409)]),
        ('SIZES = (404, "Not Found")', []),
        ('log(1, "not an error")', []),
    ],
)
def test_the_scan_reads_each_form(app, source, expected):
    answers, unreadable = answers_in("example", ast.parse(source))
    assert [(a.code, a.status) for a in answers] == expected
    assert unreadable == []


def test_a_code_kept_in_a_variable_is_reported(app):
    answers, unreadable = answers_in("example", ast.parse("raise ApiError(409, code, 'x')"))
    assert answers == [] and unreadable == ["example:1"]


def test_the_docs_table_is_the_registry():
    text = DOCS.read_text(encoding="utf-8")
    section = re.search(
        r"<!-- partner-error-codes:start[^>]*-->\n(.*?)<!-- partner-error-codes:end -->",
        text,
        re.S,
    )
    assert section, "docs/partners.md lost its generated error code section"
    assert section.group(1) == docs_table(), (
        "docs/partners.md is behind app/orders/partners/error_codes.py; "
        "run `python -m app.orders.partners.error_codes --write`"
    )
    documented = re.findall(r"^\| `([a-z_]+)` \|", section.group(1), re.M)
    assert documented == [entry.code for entry in ERROR_CODES]
    assert len(set(documented)) == len(documented), "a code is listed twice"


def test_codes_named_in_the_docs_prose_are_registered_with_that_status():
    """Any "403 `ip_not_allowed`" in the guide is a code the registry has with 403."""
    text = DOCS.read_text(encoding="utf-8")
    named = re.findall(r"\*{0,2}([45]\d\d)\*{0,2} `([a-z_]+)`", text)
    assert ("409", "order_conflict") in named  # the pattern still finds what is there
    wrong = [f"{status} {code}" for status, code in named if code not in BY_CODE]
    wrong += [
        f"{status} {code}"
        for status, code in named
        if code in BY_CODE and int(status) not in BY_CODE[code].statuses
    ]
    assert not wrong, f"docs/partners.md names codes the registry does not have so: {wrong}"
