"""What an ``/analytics.csv`` link asks for: the dashboard's filter and one table.

:func:`parse_export_args` reads both from the query string, with the errors by
parameter (empty when the link is right), as :func:`~app.analytics.filters.parse_filter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _

from app.analytics.calls import CALL_TABLES
from app.analytics.figures import FIGURES
from app.analytics.filters import AnalyticsFilter, parse_filter

# The SLA table's missed conversations, one per row (the page shows the worst few).
MISSES = "sla_missed"


def parse_export_args(
    args: Mapping[str, str], now: datetime | None = None
) -> tuple[AnalyticsFilter, str, dict[str, str]]:
    """The filter, the table's name (``figure``) and the errors by parameter."""
    f, errors = parse_filter(args, now)
    figure = args.get("figure", "")
    if figure not in FIGURES and figure not in CALL_TABLES and figure != MISSES:
        errors["figure"] = _(
            "Choose one of: %(figures)s.", figures=", ".join((*FIGURES, MISSES, *CALL_TABLES))
        )
    return f, figure, errors
