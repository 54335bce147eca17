"""Where the server may send a request to an address someone else chose: https
to public addresses only. The one outbound URL check (issue 30 point 4).

Partners choose their callback URL, a phone's browser its Web Push endpoint,
an admin a hub connector's base URL (Yardi and ROVIDA are hosted per
customer). Without a check our workers could be pointed at the metadata
service, a database port or anything else on the private network (SSRF). Each
such URL is checked when it is saved (:func:`vet_url`: scheme, ``localhost``
and literal private addresses) and at every connect (:func:`guarded_session`,
:class:`GuardedAdapter`), because DNS can change after the URL was saved.
``ALLOW_PRIVATE_WEBHOOK_URLS`` lifts both, for development and tests whose
fake providers listen on 127.0.0.1 over plain http: the one explicit exception.

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

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class UnsafeTarget(Exception):
    """The URL must not be called; the message says why (shown in the delivery log).

    ``private``: refused for the address (private, loopback, link-local…), not its form.
    """

    def __init__(self, message: str, *, private: bool = False) -> None:
        super().__init__(message)
        self.private = private


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
                "reserved address (set ALLOW_PRIVATE_WEBHOOK_URLS=1 only for development)",
                private=True,
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
        raise UnsafeTarget(f"refused: {host} is this machine, not a public address", private=True)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if _is_internal(address):
        raise UnsafeTarget(f"refused: {address} is a private or reserved address", private=True)


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
            "(its DNS answer changed after the check)",
            private=True,
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


def private_targets_allowed() -> bool:
    """The explicit exception: ``ALLOW_PRIVATE_WEBHOOK_URLS`` (development, tests)."""
    return has_app_context() and bool(current_app.config.get("ALLOW_PRIVATE_WEBHOOK_URLS"))


def vet_url(url: str) -> str:
    """``url`` stripped, or :class:`UnsafeTarget` saying why it may not be saved.

    https with a host, not ``localhost`` nor a literal private, loopback or
    link-local address; a name is resolved and checked at every connect.
    """
    url = url.strip()
    allow_private = private_targets_allowed()
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        raise UnsafeTarget("must be an https:// URL")
    if not parts.hostname:
        raise UnsafeTarget("has no host")
    refuse_internal_host(url, allow_private=allow_private)
    return url


def guarded_session() -> requests.Session:
    """A ``requests`` session whose connections refuse internal peers.

    Unguarded only under the explicit exception, so tests reach fake servers.
    """
    session = requests.Session()
    if not private_targets_allowed():
        adapter = GuardedAdapter()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session
