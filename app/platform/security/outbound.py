"""Where the server may send a request to an address someone else chose: https
to public addresses only. The one outbound URL check.

Partners choose their callback URL, a phone's browser its Web Push endpoint,
an admin a hub connector's base URL (Yardi and ROVIDA are hosted per
customer). Without a check our workers could be pointed at the metadata
service, a database port or anything else on the private network (SSRF). Each
such URL is checked when it is saved (:func:`vet_url`: scheme, ``localhost``
and literal private addresses) and at every connect (:func:`guarded_session`,
:class:`GuardedAdapter`), because DNS can change after the URL was saved.
``ALLOW_PRIVATE_WEBHOOK_URLS`` lifts both, for development and tests whose
fake providers listen on 127.0.0.1 over plain http: the one explicit exception.

A guarded connection resolves the name itself, vets every address it got and
only then connects, to one of those vetted addresses (TLS still checks the
certificate against the name). Two things follow. A name that answers a public
address to an earlier check and a private one a moment later (DNS rebinding)
reaches nothing. And no connection is ever attempted to a private address, so
whether something listens on an internal port cannot show in the answer: a
check that connected first and looked at the peer afterwards told an open port
("connected to 127.0.0.1") from a closed one (a connection error). Through a
configured egress proxy the peer is the proxy, and keeping traffic off the
private network is then the proxy's job.
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
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family


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
        vetted_addresses(parts.hostname, port)
    except (socket.gaierror, UnicodeError):
        return


def vetted_addresses(host: str, port: int, family: int = socket.AF_UNSPEC) -> list[str]:
    """Every address ``host`` resolves to, in DNS order, once all of them are public.

    :class:`UnsafeTarget` (``private``) when any is private, loopback,
    link-local or otherwise reserved; ``socket.gaierror`` when the name does
    not resolve.
    """
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    addresses: list[str] = []
    for info in infos:
        literal = str(info[4][0])
        address = ipaddress.ip_address(literal.split("%", 1)[0])
        if _is_internal(address):
            raise UnsafeTarget(
                f"refused: {host} resolves to {address}, a private or "
                "reserved address (set ALLOW_PRIVATE_WEBHOOK_URLS=1 only for development)",
                private=True,
            )
        if literal not in addresses:
            addresses.append(literal)
    return addresses


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


class _VettedConnect:
    """Resolves the host once, vets the addresses, connects to a vetted one (module notes)."""

    def _new_conn(self) -> socket.socket:
        if self.proxy:  # type: ignore[attr-defined]
            return super()._new_conn()  # type: ignore[misc]
        name = self._dns_host  # type: ignore[has-type]
        try:
            addresses = vetted_addresses(name, self.port, allowed_gai_family())  # type: ignore[attr-defined]
        except (socket.gaierror, UnicodeError) as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        try:
            # The literal address is handed to urllib3: it connects without asking
            # DNS again, and keeps its own timeouts and error wrapping.
            for address in addresses[:-1]:
                self._dns_host = address
                try:
                    return super()._new_conn()  # type: ignore[misc]
                except NewConnectionError:  # refused or unreachable: the next address
                    continue
            self._dns_host = addresses[-1]
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = name


class _GuardedHTTPConnection(_VettedConnect, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_VettedConnect, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections go only to vetted public addresses.

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
    """A urllib3 pool manager whose every new connection goes only to vetted addresses.

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
    """A ``requests`` session whose connections go only to vetted public addresses.

    Unguarded only under the explicit exception, so tests reach fake servers.
    """
    session = requests.Session()
    if not private_targets_allowed():
        adapter = GuardedAdapter()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session
