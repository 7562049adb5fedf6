"""Outgoing webhooks that cannot reach inside the server's network (SSRF guard).

A URL is checked when it is saved and again right before each send: http(s) only, the host resolved, and every
address refused when it is loopback, private, link-local, unique-local, multicast, reserved or unspecified —
unless the operator listed the host, address or network in the `webhook_allow` setting. The request then goes
to the checked address itself (no second lookup a DNS rebinding could change), follows no redirect, has short
timeouts and reads at most a small answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import UsageError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_RESPONSE = 64 * 1024
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked webhook: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _allowed(host: str, addr: Address, allow: str) -> bool:
    for entry in (e.strip().lower() for e in allow.split(",")):
        if not entry:
            continue
        if entry == host.lower():
            return True
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _forbidden(addr: Address) -> str | None:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    unique_local = isinstance(addr, ipaddress.IPv6Address) and addr in ipaddress.ip_network("fc00::/7")
    for name, bad in (("loopback", addr.is_loopback), ("link-local", addr.is_link_local),
                      ("unique-local", unique_local),
                      ("multicast", addr.is_multicast), ("unspecified", addr.is_unspecified),
                      ("private", addr.is_private), ("reserved", addr.is_reserved),
                      ("not globally routable", not addr.is_global)):
        if bad:
            return name
    return None


def check_webhook(url: str, allow: str = "", resolve: bool = True) -> Target:
    """The checked target of a webhook URL, or UsageError saying which address is refused and why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("a webhook is an http:// or https:// URL with a host name")
    if parts.username or parts.password:
        raise UsageError("a webhook URL may not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError("the webhook URL has an invalid port") from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM) if resolve else []
    except (socket.gaierror, UnicodeError):
        raise UsageError(f"the webhook host {host!r} does not resolve; check the URL") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for text in addresses:
        addr = ipaddress.ip_address(text)
        why = _forbidden(addr)
        if why and not _allowed(host, addr, allow):
            raise UsageError(f"webhooks may not reach {host} ({text} is {why}); an admin can allow it with the "
                             "webhook_allow setting")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to one checked address while verifying the certificate for the URL's host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), timeout=CONNECT_TIMEOUT)
        sock.settimeout(self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    """Plain HTTP to one checked address."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), timeout=CONNECT_TIMEOUT)
        self.sock.settimeout(self.timeout)


def post_json(url: str, body: bytes, allow: str = "") -> int:
    """POST JSON to a webhook after checking it again; returns the status (redirects are not followed)."""
    target = check_webhook(url, allow)
    if not target.addresses:
        raise UsageError(f"the webhook host {target.host!r} has no address")
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = cls(target.host, target.addresses[0], target.port, READ_TIMEOUT)
    try:
        conn.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "paperscope-webhook"})
        response = conn.getresponse()
        response.read(MAX_RESPONSE)
        return response.status
    finally:
        conn.close()
