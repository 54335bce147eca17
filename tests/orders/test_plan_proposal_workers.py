"""Proposals made by two ``worker.py`` processes: each solved once, a dead one's taken over.

A burst of proposals, each job queued three times (a planner's double click, a
redelivery), runs on two real workers: every proposal ends ready, solved by one
worker once, its visits written once. A proposal whose worker died mid-solve
(running, its heartbeat long gone) is taken over when its job is asked again.
Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.orders.planning.proposals.making import MAKE_PROPOSAL
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import PlanProposal, ProposalVisit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.planning_support import approved_order, working_day
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

PROPOSALS = 4
COPIES = 3


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _statuses() -> list[str]:
    statuses = list(db.session.scalars(sa.select(PlanProposal.status)))
    db.session.rollback()
    return statuses


def test_two_workers_solve_each_proposal_once_and_take_over_a_dead_ones(app, deployment, make_user):
    make_user("technician", skills=["alfen"])
    for n in range(6):
        order = approved_order(f"CC-2026-{n + 1:05d}", preferences={"time_window": None})
        address = order.installation_address
        address.latitude = Decimal("52.09") + Decimal(n) / 100
        address.longitude = Decimal("5.12")
    day = working_day()
    proposals = [
        PlanProposal(first_day=day, last_day=day + timedelta(days=1), status="queued")
        for _ in range(PROPOSALS)
    ]
    # The one whose worker died while it solved.
    dead = PlanProposal(
        first_day=day,
        last_day=day + timedelta(days=1),
        status="running",
        step="solving",
        progress=40,
        claim_token=uuid.uuid4(),
        heartbeat_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add_all([*proposals, dead])
    db.session.commit()

    topology = deployment()
    topology.start_worker()
    topology.start_worker()
    queue = app.extensions["broker"].queue("default")
    for proposal in [*proposals, dead]:
        for _ in range(COPIES):
            queue.enqueue(MAKE_PROPOSAL, str(proposal.id))
    wait_until(
        lambda: _statuses().count("ready") == PROPOSALS + 1, 60, "every proposal ready", every=0.3
    )
    wait_until(lambda: queue.count == 0, 30, "every copy taken", every=0.2)

    solved = re.findall(
        r"proposal ([0-9a-f-]{36}) ready", "".join(w.output() for w in topology.workers())
    )
    assert sorted(solved) == sorted(str(p.id) for p in [*proposals, dead]), solved
    rows = db.session.execute(
        sa.select(ProposalVisit.proposal_id, sa.func.count()).group_by(ProposalVisit.proposal_id)
    ).all()
    # Every proposal planned the same six orders, once each.
    assert len(rows) == PROPOSALS + 1 and {count for _, count in rows} == {6}, rows
