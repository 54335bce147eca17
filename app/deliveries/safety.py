"""Where outbound webhooks may go: https to public addresses only.

A partner (or a person editing the partner) chooses the callback URL, so
without a check our workers could be pointed at the metadata service, a
database port or anything else on the private network (SSRF). The check runs
before every attempt because DNS can change after the URL was saved.
``ALLOW_PRIVATE_WEBHOOK_URLS`` lifts it for development and tests, whose
receivers listen on 127.0.0.1 over plain http.

Known gap: ``requests`` resolves the host again when it connects, so a name
that changes between the two look-ups (DNS rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(Exception):
    """The URL must not be called; the message says why (shown in the delivery log)."""


def check_target(url: str, *, allow_private: bool) -> None:
    """Raise :class:`UnsafeTarget` unless ``url`` may receive a webhook now.

    A host that does not resolve is not refused here: that is a network
    failure like any other, retried by the caller.
    """
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget(f"refused: {parts.scheme or 'no'} scheme, only https:// URLs are called")
    if not parts.hostname:
        raise UnsafeTarget("refused: the URL has no host")
    if allow_private:
        return
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UnsafeTarget("refused: the URL's port is not a number") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if _is_internal(address):
            raise UnsafeTarget(
                f"refused: {parts.hostname} resolves to {address}, a private or "
                "reserved address (set ALLOW_PRIVATE_WEBHOOK_URLS=1 only for development)"
            )


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )
