"""``flask --app wsgi …`` commands. Each prints JSON when it creates."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from app.orders.partners.services import create_partner
from app.platform.audit.records import field_changes, record_change
from app.platform.auth.api_tokens import issue_personal_token
from app.platform.auth.microsoft import unbind_microsoft_account
from app.platform.auth.services import create_user, normalise_email
from app.platform.extensions import db
from app.platform.models import User
from app.platform.models.enums import KeyScope, Role
from app.platform.security.outbound import private_targets_allowed
from app.platform.transactions import commit
from app.seed.demo import load_demo_data
from app.seed.demo_suggestions import build_suggestions

seed_cli = AppGroup("seed", help="Load data.")
users_cli = AppGroup("users", help="Manage staff accounts.")
partners_cli = AppGroup("partners", help="Manage partners.")


def _emit(payload: dict) -> None:
    click.echo(json.dumps(payload))


def _fail(message: str) -> None:
    raise click.ClickException(message)


@seed_cli.command("demo")
@click.option("--force", is_flag=True, help="Load even if the database already has users.")
def seed_demo(force: bool) -> None:
    """Demo users, partners, articles, channels, templates and threads."""
    summary = load_demo_data(force=force)
    commit()
    if not summary.get("skipped"):
        # Ranked on the committed demo, as the jobs rank on what they read.
        summary.update(build_suggestions())
        commit()
    _emit(summary)


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(Role.values()))
@click.option("--password", required=True)
def users_create(email: str, name: str, role: str, password: str) -> None:
    """Create a user who can sign in."""
    try:
        user = create_user(email, name, role, password)
    except ValueError as exc:
        _fail(str(exc))
    # No person is signed in on the command line: the entry names nobody.
    record_change(
        User.__tablename__,
        user.id,
        "USER_CREATED",
        field_changes(
            {}, {"email": user.email, "name": user.name, "role": user.role, "password": password}
        ),
    )
    commit()
    _emit({"id": str(user.id), "email": user.email, "name": user.name, "role": user.role.value})


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="CLI token", help="A label to tell tokens apart.")
@click.option(
    "--scope",
    type=click.Choice([scope.value for scope in KeyScope]),
    default=KeyScope.WRITE.value,
    help="read: GET only; write: everything the user may do.",
)
def users_token(email: str, name: str, scope: str) -> None:
    """Issue a personal API token (shown once); admins also do this at /admin/api-tokens."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        _fail(f"no user with e-mail {email}")
    try:
        _issued, token = issue_personal_token(user, name, scope=KeyScope(scope))
    except ValueError as exc:
        _fail(str(exc))
    commit()
    _emit({"token": token})


@users_cli.command("unbind-microsoft")
@click.argument("email")
def users_unbind_microsoft(email: str) -> None:
    """Forget the Microsoft account a user signs in with; the next one is matched by e-mail."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        _fail(f"no user with e-mail {email}")
    was_bound = unbind_microsoft_account(user)
    commit()
    _emit({"email": user.email, "was_bound": was_bound})


# Said by the refusal of a local callback URL, where the person trying the quick start
# on their own machine sees it (docs/partners.md, "Trying it on your own machine").
LOCAL_RECEIVER_HINT = (
    ". To try callbacks with a receiver on this machine (http://127.0.0.1:…), set"
    " ALLOW_PRIVATE_WEBHOOK_URLS=1 for this command and for the server and worker that"
    " send them, e.g. `ALLOW_PRIVATE_WEBHOOK_URLS=1 make run` and"
    " `ALLOW_PRIVATE_WEBHOOK_URLS=1 .venv/bin/flask --app wsgi partners create …`"
    " (development only: it lets callbacks reach private addresses). Or leave"
    " --webhook-url out and set the URL later in the partner's settings."
)


@partners_cli.command("create")
@click.argument("name")
@click.option("--webhook-url", default=None, help="Where status callbacks are POSTed.")
def partners_create(name: str, webhook_url: str | None) -> None:
    """Create a partner with an API key and its live and sandbox webhook secrets (shown once)."""
    try:
        partner = create_partner(name, webhook_url=webhook_url)
    except ValueError as exc:
        message = str(exc)
        if message.startswith("webhook_url:") and not private_targets_allowed():
            message += LOCAL_RECEIVER_HINT
        _fail(message)
    commit()
    _emit(
        {
            "partner_id": str(partner.organization.id),
            "api_key": partner.api_key,
            "webhook_secret": partner.webhook_secret,
            # Signs test orders' callbacks to the sandbox URL only.
            "sandbox_webhook_secret": partner.sandbox_webhook_secret,
        }
    )


def register_commands(app: Flask) -> None:
    for group in (seed_cli, users_cli, partners_cli):
        app.cli.add_command(group)
