"""The README is one screen a newcomer reads: what it is, the two commands, a first
message arriving, who uses it and a map of ``docs/``; the rest lives in ``docs/``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_the_two_commands_and_the_demo_users_come_first():
    opening = "\n".join(README.splitlines()[:30])
    assert "make run" in opening and "make test" in opening
    for user in ("admin", "manager", "agent", "tech"):
        assert f"{user}@switchboard.test" in opening
    assert "demo1234" in opening


def test_one_screen_in_the_order_a_newcomer_reads_it():
    assert len(README.splitlines()) <= 200
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings == ["Quick start", "See a message arrive", "Who uses it", "Documentation"]


def test_the_map_names_every_page_of_docs():
    for page in DOCS:
        assert f"](docs/{page.name})" in README, f"the README's map lacks docs/{page.name}"


def test_nothing_points_outside_the_repository():
    for path, text in [(ROOT / "README.md", README)] + [(p, p.read_text()) for p in DOCS]:
        assert not re.search(r"\.\./|/work/|shared/", text), path.name
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (path.parent / target).exists(), f"{path.name} links to {target}, not here"
