"""Demo data for ``flask seed demo`` (placeholder, replaced below)."""

from __future__ import annotations


def load_demo_data(force: bool = False) -> dict:
    return {}
