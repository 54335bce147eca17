"""``flask analytics rebuild``: the daily roll-ups from the source rows."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app.analytics.rollups import rebuild

analytics_cli = AppGroup("analytics", help="Analytics roll-ups.")


@analytics_cli.command("rebuild")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First Amsterdam day to roll up (default: the first conversation's day).",
)
@click.option("--batch-days", default=7, show_default=True, help="Days per transaction.")
def rebuild_command(since, batch_days: int) -> None:
    """Recompute the daily roll-ups of every past day from ``--since`` (today stays direct)."""
    first: date | None = since.date() if since else None
    rows = rebuild(first, batch_days=batch_days, progress=click.echo)
    click.echo(f"done: {rows} roll-up rows written")


def init_app(app: Flask) -> None:
    app.cli.add_command(analytics_cli)
