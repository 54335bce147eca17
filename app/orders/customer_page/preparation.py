"""What the customer can do before a visit, as a list the page (and later checklists) read.

Data, not template text: each step has a key, so a later feature (a photo
checklist, the reminder the day before) can take the same list and add to it.
Every visit gets the general steps; what the order holds (a charger on its
lines) or why a later visit is needed adds its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.platform.models import Order, Visit
from app.platform.models.enums import ArticleType
from app.platform.models.planning import METER_BOX, MISSING_PART


@dataclass(frozen=True)
class Preparation:
    """One thing to have ready for the technician."""

    key: str
    text: object  # a lazy text, read in the page's language


GENERAL = (
    Preparation("meter_cupboard", _l("Make sure your meter cupboard is easy to reach.")),
    Preparation("charger_spot", _l("Clear the spot where the charger goes, and the way to it.")),
    Preparation("parking", _l("Keep a parking space free near your home for the technician.")),
    Preparation("adult_at_home", _l("Make sure someone aged 18 or over is at home.")),
)
BY_ARTICLE_TYPE = {
    ArticleType.WALLBOX: Preparation(
        "wifi", _l("Have your Wi-Fi name and password at hand to connect the charger.")
    ),
}
BY_PURPOSE = {
    METER_BOX: Preparation(
        "meter_box_changed",
        _l("Your grid operator has changed your meter box: nothing else to arrange."),
    ),
    MISSING_PART: Preparation(
        "missing_part", _l("The technician brings the missing part; nothing else is needed.")
    ),
}


def preparations_for(order: Order, visit: Visit | None) -> list[Preparation]:
    """What to prepare for ``visit`` of ``order``, general steps first."""
    steps = list(GENERAL)
    types = {line.article.article_type for line in order.line_items if line.article is not None}
    steps += [step for kind, step in BY_ARTICLE_TYPE.items() if kind in types]
    if visit is not None and visit.purpose in BY_PURPOSE:
        steps.append(BY_PURPOSE[visit.purpose])
    return steps
