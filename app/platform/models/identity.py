"""People who sign in, their teams, and the tokens machines use instead."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.platform.database import Entity, enum_column, utcnow
from app.platform.extensions import db
from app.platform.models.enums import Availability, KeyMode, KeyScope, Role, TokenKind


class Team(Entity, db.Model):
    """A group of users that threads and tasks are routed to (customer service, tech, ...)."""

    __tablename__ = "teams"

    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Which Teams incoming-webhook (TEAMS_WEBHOOK_URLS key) hears this team's alerts.
    teams_channel_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))

    members: so.Mapped[list["User"]] = so.relationship(back_populates="team")


class User(UserMixin, Entity, db.Model):
    """A staff member: agent, technician, team lead, manager or admin.

    The original data model points ``*_contact_id`` columns at contacts for staff; here staff sign
    in, so the communication tables reference this table instead (``*_user_id``).
    """

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("microsoft_tenant_id", "microsoft_object_id"),)

    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role), index=True)
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    skills: so.Mapped[list[Any]] = so.mapped_column(default=list)
    availability: so.Mapped[Availability] = so.mapped_column(
        enum_column(Availability), default=Availability.AVAILABLE
    )
    # Open threads an agent can carry before auto-assignment passes them over.
    max_open_threads: so.Mapped[int] = so.mapped_column(default=25)
    phone: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    is_active_account: so.Mapped[bool] = so.mapped_column(default=True)
    failed_login_count: so.Mapped[int] = so.mapped_column(default=0)
    locked_until: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_login_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Part of every session this user holds (see get_id): raising it ends them
    # all, on every device, which signing out and a new password do.
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Part of every portal invitation link (app/orders/partners/portal_users.py): a new
    # link raises it, so the links handed out before stop working.
    invitation_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Plain text under the agent's e-mail replies, above the mailbox's own.
    email_signature: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The Microsoft account this user signs in with (Entra tenant id + object id),
    # bound at the first "Sign in with Microsoft" (app/platform/auth/microsoft.py).
    microsoft_tenant_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36))
    microsoft_object_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36))
    # The interface language the user chose ("nl" or "en"); unset follows the
    # browser (app/platform/i18n.py), and texts sent outside a request use the default.
    language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(5))
    # How tightly the agent's screens are laid out: "compact" (the default: more
    # conversations and messages on a screen) or "comfortable".
    density: so.Mapped[str] = so.mapped_column(
        sa.String(12), default="compact", server_default="compact"
    )
    # The Outlook mailbox (Microsoft UPN or address) whose calendar holds this
    # user's visits and follow-ups; unset is their e-mail here. Off: no Outlook
    # calendar (technicians then subscribe to their iCalendar feed).
    calendar_mailbox: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    outlook_calendar: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # SHA-256 of the private iCalendar feed's token (app/orders/calendar_sync/feed.py).
    calendar_feed_hash: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64), unique=True)
    # A partner user's organisation (role ``partner``); None for our own staff.
    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )

    team: so.Mapped[Optional[Team]] = so.relationship(back_populates="members")

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.is_active_account

    def get_id(self) -> str:
        """What the session cookie names: the user *and* their session version.

        Flask-Login's "alternative id": a cookie copied before the version went
        up names a version that no longer exists, so it signs nobody in.
        """
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


class ApiToken(Entity, db.Model):
    """A bearer credential, stored only as a SHA-256 hash.

    Personal tokens belong to a user (JSON API); partner keys belong to a partner
    organization (partner API). ``prefix`` is the first characters of the token,
    kept in clear so a person can tell their keys apart.
    """

    __tablename__ = "api_tokens"

    kind: so.Mapped[TokenKind] = so.mapped_column(enum_column(TokenKind))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    last_used_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # The address the key was last used from (partner portal: "last used from").
    last_used_ip: so.Mapped[Optional[str]] = so.mapped_column(sa.String(45))
    expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Partner keys: test keys make test orders (sandbox); read keys may only GET.
    mode: so.Mapped[KeyMode] = so.mapped_column(
        enum_column(KeyMode), default=KeyMode.LIVE, server_default=KeyMode.LIVE.value
    )
    scope: so.Mapped[KeyScope] = so.mapped_column(
        enum_column(KeyScope), default=KeyScope.WRITE, server_default=KeyScope.WRITE.value
    )

    user: so.Mapped[Optional[User]] = so.relationship()

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or self.expires_at > now


class ApiUsageLog(Entity, db.Model):
    """API usage per day, method and endpoint (usage analytics).

    One row a day per endpoint, whatever the traffic: the webhook endpoints take
    thousands of calls a second at peak, and a row per call would double the
    database writes they cause. Success rate and average time derive from the sums.
    """

    __tablename__ = "api_usage_logs"
    __table_args__ = (
        sa.UniqueConstraint("day", "method", "endpoint", name="uq_api_usage_logs_day_endpoint"),
    )

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    method: so.Mapped[str] = so.mapped_column(sa.String(8))
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(200))
    request_count: so.Mapped[int] = so.mapped_column(default=0)
    # Answers below 400.
    success_count: so.Mapped[int] = so.mapped_column(default=0)
    total_duration_ms: so.Mapped[float] = so.mapped_column(default=0.0)
