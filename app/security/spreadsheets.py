"""Text cells a spreadsheet would run as a formula, made inert (CSV injection).

Excel and LibreOffice treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE calls), and a leading tab or
carriage return can hide such a start. A customer's or a colleague's name is
written by people outside our control, so every CSV writer passes its text cells
through :func:`inert_text`, which puts a single quote in front, as OWASP advises:
the spreadsheet shows the text, quote hidden, and runs nothing. Numbers are not
text: a negative figure is written as it is and stays a number.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_text(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows and never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
