"""Inbox urgency: at the same deadline, the higher priority first.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22

Open threads with a deadline (buckets 0 and 1) are scored by the deadline's epoch
second; the score now subtracts a few seconds by priority (critical 4 … low 0,
app.platform.models.urgency.PRIORITY_LEAD_SECONDS, copied here so this migration does not
change when the app does). Other buckets do not change.
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

LEAD = {"critical": 4, "urgent": 3, "high": 2, "normal": 1, "low": 0}


def _shift(sign: int) -> None:
    cases = " ".join(f"WHEN '{p}' THEN {s}" for p, s in LEAD.items())
    op.execute(
        sa.text(
            f"UPDATE communication_thread SET urgency_score = urgency_score "  # noqa: S608
            f"{'-' if sign > 0 else '+'} CASE lower(CAST(priority AS VARCHAR)) {cases} ELSE 1 END "
            "WHERE urgency_bucket IN (0, 1)"
        )
    )


def upgrade():
    _shift(+1)


def downgrade():
    _shift(-1)
