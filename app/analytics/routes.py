"""``/analytics``: the managers' dashboard, and ``/analytics.csv`` for each of its tables."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, render_template, request

from app.analytics.calls import CALL_TABLES, call_figures, call_table
from app.analytics.definitions import column_definition
from app.analytics.export import filename, table_csv
from app.analytics.export_request import MISSES, parse_export_args
from app.analytics.figures import compute
from app.analytics.filters import MAX_DAYS, parse_filter, team_choices
from app.analytics.services import build_dashboard
from app.analytics.sla_misses import misses_table
from app.analytics.tables import display
from app.platform.auth.decorators import role_required
from app.platform.database import utcnow
from app.platform.models.enums import Role

bp = Blueprint("analytics", __name__)

VIEWERS = (Role.MANAGER, Role.ADMIN)


@bp.get("/analytics")
@role_required(*VIEWERS)
def index():
    f, errors = parse_filter(request.args)
    dashboard = None if errors else build_dashboard(f, utcnow())
    return render_template(
        "analytics/index.html",
        dashboard=dashboard,
        calls=None if errors else call_figures(f),
        filter=f,
        values=request.args if errors else f.query_args(),
        errors=errors,
        teams=team_choices(),
        max_days=MAX_DAYS,
        display=display,
        define=column_definition,
    ), (400 if errors else 200)


@bp.get("/analytics.csv")
@role_required(*VIEWERS)
def export_csv():
    f, figure, errors = parse_export_args(request.args)
    if errors:
        text = "\n".join(f"{field}: {message}" for field, message in errors.items())
        return Response(text + "\n", status=400, mimetype="text/plain")
    # An export keeps one row per day even where the page shows weeks.
    f = replace(f, every_day=True)
    if figure in CALL_TABLES:
        table = call_table(figure, f)
    elif figure == MISSES:
        table = misses_table(f, utcnow())
    else:
        table = compute(figure, f, utcnow())
    return Response(
        table_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename(table, f)}"'},
    )
