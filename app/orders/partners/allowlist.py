"""Where a partner's API keys may be used from.

A partner may list the networks its systems call from, as CIDR blocks or
single addresses, IPv4 or IPv6. A key used from anywhere else is refused in
:func:`app.orders.partners.access.authenticate` with the address we saw, so the
partner can tell which of its egress addresses is missing. An empty list means
anywhere. The address is werkzeug's ``remote_addr``: behind a load balancer
only ``TRUSTED_PROXY_HOPS`` proxies' ``X-Forwarded-For`` is believed (ProxyFix
in ``create_app``), so a caller cannot talk its way in by writing the header.
"""

from __future__ import annotations

import ipaddress
import re

from flask_babel import gettext as _

from app.orders.partners.config import ConfigInvalid
from app.platform.audit.records import record_change
from app.platform.models import PartnerIntegration, User

MAX_ENTRIES = 50
_SEPARATORS = re.compile(r"[\s,;]+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip_allowlist(text: str) -> list[str]:
    """The normalised networks in ``text`` (one per line, or comma separated).

    ``10.0.0.7`` becomes ``10.0.0.7/32``, ``2001:DB8::/32`` ``2001:db8::/32``;
    duplicates are dropped, the order kept. A block with host bits set
    (``10.0.0.7/24``) is refused rather than silently widened or narrowed.
    Raises :class:`ConfigInvalid` on ``ip_allowlist`` naming the bad entry.
    """
    entries = [entry for entry in _SEPARATORS.split(text or "") if entry]
    networks: list[str] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            raise ConfigInvalid(
                {
                    "ip_allowlist": _(
                        "“%(entry)s” is not an IP address or network (CIDR), "
                        "e.g. 203.0.113.0/24 or 2001:db8::/32.",
                        entry=entry[:60],
                    )
                }
            ) from None
        if str(network) not in networks:
            networks.append(str(network))
    if len(networks) > MAX_ENTRIES:
        raise ConfigInvalid({"ip_allowlist": _("At most %(count)s networks.", count=MAX_ENTRIES)})
    return networks


def save_ip_allowlist(integration: PartnerIntegration, text: str, user: User | None) -> list[str]:
    """Replace the partner's allow-list with the networks in ``text`` (audited, no commit)."""
    networks = parse_ip_allowlist(text)
    before = list(integration.ip_allowlist or [])
    integration.ip_allowlist = networks
    if networks != before:
        record_change(
            PartnerIntegration.__tablename__,
            integration.id,
            "PARTNER_IP_ALLOWLIST_CHANGED",
            {
                "partner_organization_id": str(integration.partner_organization_id),
                "ip_allowlist": {"from": before, "to": networks},
            },
            user_id=user.id if user else None,
        )
    return networks


def is_allowed(integration: PartnerIntegration, address: str | None) -> bool:
    """True when ``address`` may use the partner's keys (always, with an empty list)."""
    entries = integration.ip_allowlist or []
    if not entries:
        return True
    networks = _networks(entries)
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # An IPv4 client seen through a dual-stack socket (::ffff:203.0.113.9).
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in networks)


def allowlist_text(integration: PartnerIntegration) -> str:
    """The list as the form shows it: one network per line."""
    return "\n".join(integration.ip_allowlist or [])


def _networks(entries: list) -> list[Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry), strict=False))
        except ValueError:
            # Saved lists are validated; a hand-edited bad row must not open the door
            # wider, so it is skipped and the rest still applies.
            continue
    return networks
