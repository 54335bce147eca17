"""Whole counts written without babel's pattern machinery read exactly as babel writes them."""

from __future__ import annotations

import pytest
from babel import Locale
from babel.numbers import format_decimal

from app.platform import ui

COUNTS = [0, 7, 999, 1_000, 12_345, 999_999, 1_000_000, 10_000_000_000]


@pytest.mark.parametrize("locale", ["en", "nl", "de_CH", "fr", "hi_IN"])
def test_whole_counts_read_as_babel_writes_them(monkeypatch, locale):
    monkeypatch.setattr(ui, "display_locale", lambda: Locale.parse(locale))
    for value in COUNTS:
        assert ui.local_number(value) == format_decimal(value, "#,##0", locale=locale)
    # Other numbers still go through babel.
    assert ui.local_number(-1234) == format_decimal(-1234, "#,##0", locale=locale)
    assert ui.local_number(1234.56, 1) == format_decimal(1234.56, "#,##0.0", locale=locale)
