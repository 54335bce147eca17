"""The README starts with the quick start and stays inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_two_commands_and_the_demo_users_come_first():
    opening = "\n".join(README.splitlines()[:30])
    assert "make run" in opening and "make test" in opening
    for user in ("admin", "manager", "agent", "tech"):
        assert f"{user}@switchboard.test" in opening
    assert "demo1234" in opening


def test_sections_in_the_order_a_newcomer_reads_them():
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    order = [
        "Quick start",
        "Configuration",
        "Architecture",
        "Deployment and scale-out",
        "Performance",
    ]
    assert [h for h in headings if h in order] == order


def test_nothing_points_outside_the_repository():
    assert not re.search(r"\.\./|/work/|shared/", README)
    for target in re.findall(r"\]\(([^)#]+)[^)]*\)", README):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README links to {target}, not in the repository"
