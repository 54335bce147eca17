"""Where outbound webhooks may go: https to public addresses only.

A partner (or a person editing the partner) chooses the callback URL, so
without a check our workers could be pointed at the metadata service, a
database port or anything else on the private network (SSRF). The check runs
before every attempt because DNS can change after the URL was saved.
``ALLOW_PRIVATE_WEBHOOK_URLS`` lifts it for development and tests, whose
receivers listen on 127.0.0.1 over plain http.

``requests`` resolves the host again when it connects, so a name that answers
a public address to the check and a private one a moment later (DNS
rebinding) would slip past it. :class:`GuardedAdapter` closes that gap: it
checks the address the socket actually connected to, before a byte of TLS or
HTTP is sent. Through a configured egress proxy the peer is the proxy, and
keeping traffic off the private network is then the proxy's job.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


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


def refuse_internal_host(url: str, *, allow_private: bool) -> None:
    """Raise :class:`UnsafeTarget` when ``url`` names a private host outright.

    For forms, when the URL is saved: ``localhost`` and literal private or
    reserved addresses are refused there and then, without asking DNS (a name
    is resolved and checked at every attempt by :func:`check_target`).
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if allow_private or not host:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeTarget(f"refused: {host} is this machine, not a public address")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if _is_internal(address):
        raise UnsafeTarget(f"refused: {address} is a private or reserved address")


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


def refuse_internal_peer(sock: socket.socket, host: str) -> None:
    """Raise :class:`UnsafeTarget` if ``sock`` is connected to an internal address."""
    address = ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0])
    if _is_internal(address):
        raise UnsafeTarget(
            f"refused: {host} connected to {address}, a private or reserved address "
            "(its DNS answer changed after the check)"
        )


class _PeerCheck:
    """Checks the connected peer right after the TCP connect (see the module notes)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        if not self.proxy:  # type: ignore[attr-defined]
            try:
                refuse_internal_peer(sock, self.host)  # type: ignore[attr-defined]
            except UnsafeTarget:
                sock.close()
                raise
        return sock


class _GuardedHTTPConnection(_PeerCheck, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheck, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections refuse internal peers.

    :class:`UnsafeTarget` is not an ``OSError``, so urllib3 and ``requests`` let
    it through unwrapped: the caller sees the refusal, not a network failure to retry.
    """

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


class GuardedPoolManager(PoolManager):
    """A urllib3 pool manager whose every new connection refuses internal peers.

    The same check as :class:`GuardedAdapter`, for callers that use urllib3
    directly; a kept-alive connection was checked when it was opened.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
