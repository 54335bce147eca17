"""CSV files that a spreadsheet opens without running anything (CSV injection).

Excel and LibreOffice treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE calls), and a leading tab or
carriage return can hide such a start. A customer's, partner's or colleague's
name is written by people outside our control, so every CSV export writes its
rows through :func:`csv_writer`, which puts a single quote in front of such a
text cell, as OWASP advises: the spreadsheet shows the text, quote hidden, and
runs nothing. The check lives in the writer, not in each export, so a column
added later cannot forget it.

Numbers are not text: an ``int``/``float``/``Decimal`` is written as it is, and
an export that formats a number itself (decimal commas for Dutch Excel) marks
the result as a :class:`Figure`, so a negative figure stays a number.
"""

from __future__ import annotations

import csv
from typing import IO, Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Figure(str):
    """A number the export formatted as text itself: written as it is."""


def inert_text(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows and never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def inert_cell(value: Any) -> Any:
    """A cell as the writer writes it: text made inert, numbers and figures as they are."""
    if isinstance(value, str) and not isinstance(value, Figure):
        return inert_text(value)
    return value


class InertWriter:
    """``csv.writer`` whose every text cell passes :func:`inert_cell`."""

    def __init__(self, stream: IO[str], **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([inert_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: IO[str], **options: Any) -> InertWriter:
    """The one way exports write CSV (see the module notes)."""
    return InertWriter(stream, **options)
