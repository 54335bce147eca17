"""Partner status reach: which of our statuses a partner's own statuses may reach.

A partner's ``status_mapping`` maps its statuses onto ours (``CONFIRMED`` → ``approved``).
Whether the partner's word is enough to approve or complete an order is ours
to decide, per partner: an admin grants the statuses on the partner's page
(default ``on_hold``), the grant is audited, and the configuration check
(:func:`app.orders.partners.config.partner_status_problem`) and the status webhook hold
every mapping to it. The partner API cannot change it.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.orders.partners.config import ConfigInvalid, granted_statuses
from app.platform.audit.records import record_edit
from app.platform.models import PartnerIntegration, User
from app.platform.models.enums import OrderStatus

AUDIT_ACTION = "PARTNER_STATUS_GRANTS_CHANGED"
FIELD = "granted_statuses"


def grant_statuses(integration: PartnerIntegration, statuses: list[str], user: User | None) -> None:
    """Make ``statuses`` the partner's grant and audit the change (no commit).

    Raises :class:`ConfigInvalid` for a status we do not have, or when a grant
    taken away is still the target of the partner's mapping: the mapping row
    would otherwise be refused only when the partner next uses it.
    """
    unknown = [status for status in statuses if status not in OrderStatus.values()]
    if unknown:
        raise ConfigInvalid({FIELD: _("not a status: %(statuses)s", statuses=", ".join(unknown))})
    granted = [status for status in OrderStatus.values() if status in statuses]
    inbound = (integration.status_mapping or {}).get("partner_to_chargecars") or {}
    still_mapped = {
        f"status_mapping.partner_to_chargecars.{theirs}": _(
            "%(theirs)s maps to %(ours)s; change that row before taking %(ours)s away",
            theirs=theirs,
            ours=ours,
        )
        for theirs, ours in inbound.items()
        if ours not in granted
    }
    if still_mapped:
        raise ConfigInvalid(still_mapped)
    before = {FIELD: granted_statuses(integration)}
    integration.granted_statuses = granted
    record_edit(
        PartnerIntegration.__tablename__,
        integration.id,
        AUDIT_ACTION,
        before,
        {FIELD: granted},
        user_id=user.id if user else None,
    )
