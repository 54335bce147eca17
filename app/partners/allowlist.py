"""A partner's IP allow-list: the networks (CIDR) its API keys may be used from.

Minimal stand-in for h-keys' module (the lead keeps h-keys' version at merge):
parse and save only.
"""

from __future__ import annotations

import ipaddress

from flask_babel import gettext as _

from app.audit.records import record_change
from app.models import PartnerIntegration, User
from app.partners.config import ConfigInvalid

MAX_ENTRIES = 100


def parse_ip_allowlist(text: str) -> list[str]:
    """Networks from ``text`` (one per line, or comma separated), normalised."""
    entries: list[str] = []
    for raw in (text or "").replace(",", "\n").splitlines():
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        try:
            entries.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ConfigInvalid(
                {"ip_allowlist": _("%(entry)s is not an address or network (CIDR).", entry=item)}
            ) from exc
    if len(entries) > MAX_ENTRIES:
        raise ConfigInvalid({"ip_allowlist": _("At most %(count)s entries.", count=MAX_ENTRIES)})
    return list(dict.fromkeys(entries))


def save_ip_allowlist(integration: PartnerIntegration, text: str, user: User | None) -> list[str]:
    """Replace the allow-list with the networks in ``text`` (no commit); audited."""
    entries = parse_ip_allowlist(text)
    before = list(integration.ip_allowlist or [])
    integration.ip_allowlist = entries
    if before != entries:
        record_change(
            PartnerIntegration.__tablename__,
            integration.id,
            "IP_ALLOWLIST_UPDATED",
            {"ip_allowlist": {"from": before, "to": entries}},
            user_id=user.id if user else None,
        )
    return entries
