"""A planned visit to an order, who goes, and when technicians work."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db

# Mon–Fri 08:00–17:00 for a technician without a schedule of their own.
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WORKING_HOURS: dict[str, list[str] | None] = {
    **{day: ["08:00", "17:00"] for day in WEEKDAY_KEYS[:5]},
    "sat": None,
    "sun": None,
}


# Why an order needs a visit after its first: a large job's second day, a
# return for a part that was missing, or after the grid operator changed the
# meter box. The first visit has none.
SECOND_DAY, MISSING_PART, METER_BOX = "second_day", "missing_part", "meter_box"
VISIT_PURPOSES = (SECOND_DAY, MISSING_PART, METER_BOX)


class Visit(Entity, db.Model):
    """One visit to an order, owned by :mod:`app.orders.planning.services`.

    An order's visits are numbered from 1; most orders have one. Each has its
    own plan (day, window, crew), is completed on its own (``completed_at``),
    and the order completes with its last. The order's *current* visit is its
    first one not completed (:attr:`app.platform.models.Order.visit`).

    ``version`` goes up by one on every change; a change names the version it
    was made on, and one conditional UPDATE takes it, so of two planners
    saving at once exactly one wins. An unplanned visit keeps its row (no
    date, no technicians), so the next plan continues the version count.
    ``Order.scheduled_date`` and ``Order.assigned_technician_id`` (the lead)
    follow the current visit, kept in step by :func:`app.orders.core.planning.plan_visit`.
    """

    __tablename__ = "visits"
    __table_args__ = (sa.UniqueConstraint("order_id", "number"),)

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE")
    )
    number: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # One of VISIT_PURPOSES for a later visit; None for the first.
    purpose: so.Mapped[Optional[str]] = so.mapped_column(sa.String(24))
    # When its technician tapped "Started" and "Completed" on the phone.
    started_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    scheduled_date: so.Mapped[Optional[date]] = so.mapped_column(index=True)
    window_start: so.Mapped[Optional[time]] = so.mapped_column()
    window_end: so.Mapped[Optional[time]] = so.mapped_column()
    duration_minutes: so.Mapped[int] = so.mapped_column(default=120)
    # What to bring, one item a line (filled from the order's articles at first).
    materials: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    technician_notes: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # The day before the latest move, for "moved from Tue 24-11" on the phone.
    previous_date: so.Mapped[Optional[date]] = so.mapped_column()
    planned_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    planned_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    crew: so.Mapped[list["VisitTechnician"]] = so.relationship(
        back_populates="visit",
        cascade="all, delete-orphan",
        order_by="(VisitTechnician.is_lead.desc(), VisitTechnician.created_at)",
    )

    @property
    def technician_ids(self) -> list[uuid.UUID]:
        """Everyone on the visit, the lead first."""
        return [member.technician_id for member in self.crew]

    @property
    def window_text(self) -> str | None:
        """ "08:00-12:00", the form :func:`parse_time_window` reads."""
        if self.window_start is None or self.window_end is None:
            return None
        return f"{self.window_start:%H:%M}-{self.window_end:%H:%M}"


class VisitTechnician(Entity, db.Model):
    """One technician on a visit; the lead is the order's assigned technician.

    Planning keeps the two in step (:func:`app.orders.planning.services.save_plan` makes
    the first of the crew the lead and the order's technician): the order desk's
    technician filter reads the lead from the order and only the helpers here.
    """

    __tablename__ = "visit_technicians"
    __table_args__ = (
        sa.UniqueConstraint("visit_id", "technician_id"),
        # The helpers (not the lead) by technician: the order desk's technician
        # filter finds the lead on the order and these few here (app.orders.core.desk).
        sa.Index(
            "ix_visit_technicians_helping",
            "technician_id",
            "visit_id",
            postgresql_where=sa.text("is_lead IS false"),
            sqlite_where=sa.text("is_lead = 0"),
        ),
    )

    visit_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("visits.id", ondelete="CASCADE")
    )
    technician_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    is_lead: so.Mapped[bool] = so.mapped_column(default=False)

    visit: so.Mapped[Visit] = so.relationship(back_populates="crew")


class VisitNotice(Entity, db.Model):
    """The customer's message about one version of a visit plan: sent once.

    Unique on (visit, version): two planners saving the same version cannot
    both write one, and the send job, run twice, finds it already sent.
    """

    __tablename__ = "visit_notices"
    __table_args__ = (sa.UniqueConstraint("visit_id", "version"),)

    visit_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("visits.id", ondelete="CASCADE")
    )
    version: so.Mapped[int] = so.mapped_column()
    # planned, moved or cancelled: which text the customer gets.
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    actor_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    sent_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL")
    )
    # Why the customer was not told (no channel reaches them), when they were not.
    problem: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)


class TechnicianSchedule(Entity, db.Model):
    """A technician's working hours per weekday: {"mon": ["08:00", "17:00"], "sat": None}.

    Having a schedule also makes someone plannable who is not a technician by
    role (a team lead who still installs).
    """

    __tablename__ = "technician_schedules"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    weekly_hours: so.Mapped[dict[str, Any]] = so.mapped_column(
        default=lambda: dict(DEFAULT_WORKING_HOURS)
    )


class TechnicianBase(Entity, db.Model):
    """Where a technician's day starts and ends (their home or a depot), and how far
    they go: what travel to the first visit and home from the last is measured from.

    Places are kept as PDOK found them (its label and coordinates); no end means the
    day ends where it started. No radius means anywhere in the country.
    """

    __tablename__ = "technician_bases"
    __table_args__ = (
        sa.CheckConstraint(
            "area_radius_km IS NULL OR area_radius_km BETWEEN 1 AND 400",
            name="technician_area_radius_in_range",
        ),
    )

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    start_label: so.Mapped[str] = so.mapped_column(sa.String(200))
    start_postal_code: so.Mapped[str] = so.mapped_column(sa.String(7))
    start_house_number: so.Mapped[str] = so.mapped_column(sa.String(16))
    start_latitude: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(9, 6))
    start_longitude: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(9, 6))
    end_label: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    end_postal_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(7))
    end_house_number: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    end_latitude: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(9, 6))
    end_longitude: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(9, 6))
    area_radius_km: so.Mapped[Optional[int]] = so.mapped_column(sa.Integer)


class TechnicianAbsence(Entity, db.Model):
    """Days a technician does not work (leave, sick, training), both ends included."""

    __tablename__ = "technician_absences"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="absence_ends_after_start"),
        sa.Index("ix_technician_absences_user_dates", "user_id", "starts_on", "ends_on"),
    )

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    starts_on: so.Mapped[date] = so.mapped_column()
    ends_on: so.Mapped[date] = so.mapped_column()
    reason: so.Mapped[str] = so.mapped_column(sa.String(200))


class PlanProposal(Entity, db.Model):
    """A proposed plan for some days, made by the route solver for a planner to accept.

    Owned by :mod:`app.orders.planning.proposals`. ``status`` runs
    ``queued`` → ``running`` → ``ready`` (or ``failed``); the job that makes it
    claims it with a heartbeat, so a worker that dies mid-solve leaves it to the
    next claim. ``summary`` holds the figures the board shows (travel of the
    proposal and of the nearest-free-slot way, what stayed unplanned and why).
    """

    __tablename__ = "plan_proposals"
    __table_args__ = (
        sa.CheckConstraint("last_day >= first_day", name="proposal_days_in_order"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="proposal_progress_in_range"),
    )

    first_day: so.Mapped[date] = so.mapped_column()
    last_day: so.Mapped[date] = so.mapped_column()
    # Planned visits on these days the solver may move (the rest stay where they are).
    freed_planned: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued", index=True)
    progress: so.Mapped[int] = so.mapped_column(default=0)
    step: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    requested_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    heartbeat_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    claim_token: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    summary: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)

    visits: so.Mapped[list["ProposalVisit"]] = so.relationship(
        back_populates="proposal",
        cascade="all, delete-orphan",
        order_by="(ProposalVisit.day, ProposalVisit.window_start)",
    )


class ProposalVisit(Entity, db.Model):
    """One visit a proposal plans: which order, who, when, and what became of it.

    ``seen_version`` is the order's plan version when the proposal was made (0: it
    had none); accepting saves with it, so a plan changed since is refused rather
    than overwritten. ``decision`` is ``proposed``, ``accepted`` or ``refused``
    (``reason`` says why, in the planner's words).
    """

    __tablename__ = "proposal_visits"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "order_id", "visit_number"),)

    proposal_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("plan_proposals.id", ondelete="CASCADE")
    )
    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    visit_number: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    technician_ids: so.Mapped[list[Any]] = so.mapped_column(default=list)  # lead first
    day: so.Mapped[date] = so.mapped_column()
    window_start: so.Mapped[time] = so.mapped_column()
    window_end: so.Mapped[time] = so.mapped_column()
    duration_minutes: so.Mapped[int] = so.mapped_column()
    drive_minutes: so.Mapped[int] = so.mapped_column(default=0)
    seen_version: so.Mapped[int] = so.mapped_column(default=0)
    # Where the visit was before (a freed planned visit), for "moves from …".
    was_day: so.Mapped[Optional[date]] = so.mapped_column()
    decision: so.Mapped[str] = so.mapped_column(sa.String(16), default="proposed")
    reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    decided_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column()

    proposal: so.Mapped[PlanProposal] = so.relationship(back_populates="visits")

    @property
    def window_text(self) -> str:
        return f"{self.window_start:%H:%M}-{self.window_end:%H:%M}"
