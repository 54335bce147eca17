"""Managing the Outlook mailboxes Switchboard reads: add, change team and signature, disable.

The default mailbox is ``GRAPH_MAILBOX`` and cannot be disabled
here; further mailboxes (service@, planning@, shared mailboxes) are added by an
admin. Each gets its own e-mail channel, so its conversations, signature and
Graph secret stay its own; the subscription job picks a new one up on its next
run (every 15 minutes). Every change is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.channels.outlook.client import parse_graph_time
from app.conversations.channels.outlook.state import default_mailbox, normalise_mailbox
from app.conversations.contacts.emails import is_email_address
from app.conversations.core import new_channel
from app.conversations.signatures.services import InvalidSignature, clean_signature
from app.platform.audit.records import record_change, record_edit
from app.platform.extensions import db
from app.platform.models import OutlookMailbox, Team
from app.platform.models.enums import ChannelType

MAX_NAME_LENGTH = 120
TABLE = OutlookMailbox.__tablename__


class InvalidMailbox(ValueError):
    """A mailbox form that cannot be saved; ``fields`` says what is wrong, per field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {text}" for key, text in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class MailboxForm:
    """What an admin typed, as plain strings."""

    display_name: str = ""
    team_id: str = ""
    signature: str = ""


def list_mailboxes() -> list[OutlookMailbox]:
    """Every mailbox, the default first, then by address."""
    default = default_mailbox()
    others = db.session.scalars(
        sa.select(OutlookMailbox)
        .where(OutlookMailbox.id != default.id)
        .order_by(OutlookMailbox.is_active.desc(), OutlookMailbox.address)
    ).all()
    return [default, *others]


def subscribed_until(mailbox: OutlookMailbox) -> datetime | None:
    """When the earlier of the mailbox's two subscriptions runs out (None: not subscribed)."""
    expiries = [
        parse_graph_time(subscription["expires_at"])
        for subscription in (mailbox.subscriptions or {}).values()
        if subscription and subscription.get("expires_at")
    ]
    return min(expiries) if expiries else None


def teams() -> list[Team]:
    return list(db.session.scalars(sa.select(Team).order_by(Team.name)))


def get_mailbox(mailbox_id: uuid.UUID) -> OutlookMailbox | None:
    return db.session.get(OutlookMailbox, mailbox_id)


def add_mailbox(address: str, form: MailboxForm) -> OutlookMailbox:
    """Add a mailbox with its own channel; raises :class:`InvalidMailbox`. No commit."""
    # The Outlook channel from before there were several mailboxes is the default's.
    default = default_mailbox()
    errors: dict[str, str] = {}
    clean_address = normalise_mailbox(address)
    if not clean_address:
        errors["address"] = _("Enter the mailbox's e-mail address.")
    elif not is_email_address(clean_address):
        errors["address"] = _("%(address)s is not an e-mail address.", address=clean_address)
    elif clean_address == default.address or db.session.scalar(
        sa.select(OutlookMailbox.id).where(OutlookMailbox.address == clean_address)
    ):
        errors["address"] = _("%(address)s is already a mailbox here.", address=clean_address)
    values = _checked(form, errors)
    if errors:
        raise InvalidMailbox(errors)
    channel = new_channel(
        ChannelType.EMAIL_OUTLOOK,
        values["display_name"] or clean_address,
        _channel_settings({"mailbox": clean_address}, values["signature"]),
    )
    mailbox = OutlookMailbox(
        address=clean_address,
        display_name=values["display_name"] or None,
        channel_id=channel.id,
        team_id=values["team_id"],
        is_default=False,
        is_active=True,
        subscriptions={},
        delta_state={},
    )
    mailbox.channel = channel
    db.session.add(mailbox)
    db.session.flush()
    record_change(TABLE, mailbox.id, "MAILBOX_ADDED", _audited(mailbox))
    return mailbox


def update_mailbox(mailbox: OutlookMailbox, form: MailboxForm) -> None:
    """Change name, team and signature; raises :class:`InvalidMailbox`. No commit."""
    errors: dict[str, str] = {}
    values = _checked(form, errors)
    if errors:
        raise InvalidMailbox(errors)
    before = _audited(mailbox)
    mailbox.display_name = values["display_name"] or None
    mailbox.team_id = values["team_id"]
    channel = mailbox.channel
    channel.channel_name = values["display_name"] or channel.channel_name
    channel.configuration = _channel_settings(
        {**(channel.configuration or {}), "mailbox": mailbox.address}, values["signature"]
    )
    record_edit(TABLE, mailbox.id, "MAILBOX_CHANGED", before, _audited(mailbox))


def set_active(mailbox: OutlookMailbox, active: bool) -> None:
    """Disable (no more mail read or sent from it) or enable a mailbox. No commit.

    The default mailbox is ``GRAPH_MAILBOX`` and stays on. Conversations keep
    their messages; replies to them go out from the default mailbox meanwhile.
    """
    if mailbox.is_default and not active:
        raise InvalidMailbox(
            {"active": _("The default mailbox is set by GRAPH_MAILBOX and cannot be disabled.")}
        )
    before = _audited(mailbox)
    mailbox.is_active = active
    mailbox.channel.is_active = active
    if not active:
        # Their subscriptions lapse; enabling again subscribes anew.
        mailbox.subscriptions = {}
    action = "MAILBOX_ENABLED" if active else "MAILBOX_DISABLED"
    record_edit(TABLE, mailbox.id, action, before, _audited(mailbox))


def _checked(form: MailboxForm, errors: dict[str, str]) -> dict:
    values: dict = {"display_name": (form.display_name or "").strip(), "team_id": None}
    if len(values["display_name"]) > MAX_NAME_LENGTH:
        errors["display_name"] = _("A name can be at most %(max)s characters.", max=MAX_NAME_LENGTH)
    if form.team_id:
        team = None
        try:
            team = db.session.get(Team, uuid.UUID(form.team_id))
        except ValueError:
            pass
        if team is None:
            errors["team_id"] = _("Choose one of the teams.")
        else:
            values["team_id"] = team.id
    try:
        values["signature"] = clean_signature(form.signature)
    except InvalidSignature as exc:
        errors["signature"] = str(exc)
    return values


def _channel_settings(settings: dict, signature: str | None) -> dict:
    settings = dict(settings)
    if signature:
        settings["signature"] = signature
    else:
        settings.pop("signature", None)
    return settings


def _audited(mailbox: OutlookMailbox) -> dict:
    return {
        "address": mailbox.address,
        "display_name": mailbox.display_name,
        "team_id": str(mailbox.team_id) if mailbox.team_id else None,
        "signature": (mailbox.channel.configuration or {}).get("signature"),
        "is_active": mailbox.is_active,
    }
