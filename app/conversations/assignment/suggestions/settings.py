"""The admin's switch for auto-routing by suggestion, and its confidence threshold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.workspace.services import InvalidInput
from app.platform.audit.records import record_edit
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import RoutingSettings

# Off until an admin turns it on: the rules route as they always did.
DEFAULT_THRESHOLD = 0.7
# In percent: below half the classifier is guessing; 100 % is never reached.
MIN_THRESHOLD, MAX_THRESHOLD = 50, 99


class InvalidSettings(InvalidInput):
    """A threshold that is not a whole percentage in range (``fields`` says so)."""


@dataclass(frozen=True)
class Settings:
    auto_routing: bool = False
    threshold: float = DEFAULT_THRESHOLD

    @property
    def threshold_percent(self) -> int:
        return round(self.threshold * 100)

    def routes_by_itself(self, confidence: float) -> bool:
        """Whether a suggestion this sure sends the conversation without the rules."""
        return self.auto_routing and confidence >= self.threshold


def routing_settings() -> Settings:
    row = db.session.execute(
        sa.select(RoutingSettings.auto_routing, RoutingSettings.confidence_threshold)
    ).first()
    return Settings(row.auto_routing, row.confidence_threshold) if row else Settings()


def parse_threshold(raw: str | None) -> float:
    """The percentage an admin typed ("70", "70 %") as a fraction.

    Raises :class:`InvalidSettings` for anything else.
    """
    text = (raw or "").replace("%", "").strip()
    if not text.isdigit() or not MIN_THRESHOLD <= int(text) <= MAX_THRESHOLD:
        raise InvalidSettings(
            {
                "threshold": _(
                    "a whole percentage from %(min)s to %(max)s",
                    min=MIN_THRESHOLD,
                    max=MAX_THRESHOLD,
                )
            }
        )
    return int(text) / 100


def save_settings(auto_routing: bool, threshold: float, by_user_id: uuid.UUID | None) -> Settings:
    """Store the switch and threshold (one row, written in one statement); the caller commits."""
    before = routing_settings()
    now = utcnow()
    values = {
        "auto_routing": auto_routing,
        "confidence_threshold": threshold,
        "updated_by_user_id": by_user_id,
        "updated_at": now,
    }
    insert = upsert_insert(RoutingSettings, db.session.get_bind().dialect.name).values(
        id=uuid.uuid4(), singleton=True, created_at=now, **values
    )
    row_id = db.session.execute(
        insert.on_conflict_do_update(index_elements=["singleton"], set_=values).returning(
            RoutingSettings.id
        )
    ).scalar_one()
    after = Settings(auto_routing, threshold)
    record_edit(
        RoutingSettings.__tablename__,
        row_id,
        "ROUTING_SETTINGS_SAVED",
        {"auto_routing": before.auto_routing, "threshold_percent": before.threshold_percent},
        {"auto_routing": after.auto_routing, "threshold_percent": after.threshold_percent},
    )
    return after
