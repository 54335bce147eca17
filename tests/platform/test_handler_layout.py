"""Where a URL's handler lives: a newcomer finds it from the feature's name.

A feature's browser handlers are in ``routes.py``, its JSON handlers in ``api.py``,
or, where it has several, in its ``web/`` folder. A service module is never named
like a handler module, so a file called ``routes`` or ``admin`` always holds one.
"""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
BLUEPRINT = re.compile(r"\bBlueprint\(")
HANDLER_NAMES = {"routes.py", "api.py"}
LOOKS_LIKE_A_HANDLER = re.compile(r"^(routes|api|admin|.*_routes|.*_api)\.py$")


def _modules():
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def _defines_blueprint(path: Path) -> bool:
    return bool(BLUEPRINT.search(path.read_text(encoding="utf-8")))


def test_every_blueprint_is_in_routes_api_or_a_web_folder():
    misplaced = [
        str(path.relative_to(APP.parent))
        for path in _modules()
        if _defines_blueprint(path)
        and path.name not in HANDLER_NAMES
        and path.parent.name != "web"
    ]
    assert not misplaced, f"blueprints outside routes.py, api.py or web/: {misplaced}"


def test_no_service_module_is_named_like_a_handler():
    misnamed = [
        str(path.relative_to(APP.parent))
        for path in _modules()
        if LOOKS_LIKE_A_HANDLER.match(path.name)
        and path.parent.name != "web"
        and not _defines_blueprint(path)
    ]
    assert not misnamed, f"modules named like handlers that hold none: {misnamed}"


def test_a_feature_with_several_handler_modules_keeps_them_in_web():
    crowded = {}
    for path in _modules():
        if _defines_blueprint(path) and path.parent.name != "web":
            crowded.setdefault(path.parent, []).append(path.name)
    crowded = {
        str(folder.relative_to(APP.parent)): names
        for folder, names in crowded.items()
        if len(names) > 2
    }
    assert not crowded, f"features with more than routes.py and api.py outside web/: {crowded}"


GATES = ("declare(", "login_required", "role_required(", "gate(", "api_role_required(")


def _decorator_stacks(path: Path):
    """(line, decorators) of each decorated function in ``path``."""
    stack: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("@"):
            stack.append(line)
        elif line.startswith(("def ", "async def ")):
            if stack:
                yield number, stack
            stack = []
        elif not line.startswith((" ", ")")):
            stack = []


def test_each_route_declares_its_access_once():
    twice = [
        f"{path.relative_to(APP.parent)}:{number}"
        for path in _modules()
        if _defines_blueprint(path)
        for number, stack in _decorator_stacks(path)
        if sum(any(gate in line for gate in GATES) for line in stack) > 1
    ]
    assert not twice, f"routes whose access is declared more than once: {twice}"
