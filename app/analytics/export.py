"""CSV export of an analytics table, made to open cleanly in Excel.

The office runs Excel in Dutch, so the file is written the way that Excel
reads a double-clicked CSV without an import wizard: a UTF-8 byte-order mark
(so é and € survive), ``;`` between fields (the Dutch list separator, since
``,`` is the decimal sign there), decimal commas, and CRLF line ends. Durations
are in minutes (working hours in hours) and percentages in percent, each labelled in its header; the
rows and the "All" total are exactly those of the table on the page. Text that
Excel would run as a formula is made inert by the writer
(:mod:`app.platform.security.spreadsheets`).
"""

from __future__ import annotations

import io
from datetime import date

from app.analytics.filters import AnalyticsFilter
from app.analytics.tables import COUNT, DAY, DURATION, PERCENT, RATING, WORKING_HOURS, Table
from app.platform.security.spreadsheets import Figure, csv_writer

BOM = "\ufeff"
DELIMITER = ";"
UNITS = {DURATION: " (min)", PERCENT: " (%)"}


def cell(value, kind: str) -> str:
    """One value as the CSV writes it (empty for no value)."""
    if value is None:
        return ""
    if kind == DURATION:
        return Figure(f"{value / 60:.1f}".replace(".", ","))
    if kind == WORKING_HOURS:  # hours, as the column's label says
        return Figure(f"{value / 3600:.1f}".replace(".", ","))
    if kind in (PERCENT, RATING):
        return Figure(f"{value:.1f}".replace(".", ","))
    if kind == COUNT:
        return Figure(str(int(value)))
    if kind == DAY and isinstance(value, date):
        return value.isoformat()
    return value


def table_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([column.label + UNITS.get(column.kind, "") for column in table.columns])
    for row in table.all_rows():
        writer.writerow([cell(row.get(column.key), column.kind) for column in table.columns])
    return BOM + buffer.getvalue()


def filename(table: Table, f: AnalyticsFilter) -> str:
    team = "-team" if f.team_id else ""
    return f"switchboard-{table.key}-{f.first_day.isoformat()}-{f.last_day.isoformat()}{team}.csv"
