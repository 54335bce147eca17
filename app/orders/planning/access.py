"""Who may plan, and who sets technicians' hours: declared once for every planning page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.orders.core.services import ORDER_DESK_ROLES
from app.platform.auth.decorators import role_required
from app.platform.models.enums import Role

# Who plans: the desk, as the order page's status rule has it (agents may move
# any order from approved to scheduled there already, so they may plan too).
PLANNER_ROLES = ORDER_DESK_ROLES
# Who sets technicians' hours and days off.
HOURS_ROLES = (Role.MANAGER, Role.ADMIN)

# Each route declares its roles once (role_required enforces and records them).
planners_only = role_required(*PLANNER_ROLES, refusal=_l("Planning is for the desk's planners."))
