"""Which address a request came from: one answer for everything that counts per client
(django-axes' login lockout, the consultation form's rate limit), and the proxies
(``TRUSTED_PROXIES``) whose forwarding headers are believed. Why it reads X-Forwarded-For
the way it does: docs/deploy.md, "The client's address".
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(values: list[str]) -> list[Network]:
    """``TRUSTED_PROXIES`` entries as networks (a bare address is a /32 or /128)."""
    networks = []
    for value in values:
        if not value.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {value.strip()!r} is not an IP address or network "
                "(e.g. 127.0.0.1, ::1 or 10.0.0.0/8)."
            ) from None
    return networks


def parse_address(value: str) -> Address | None:
    """An address as it appears in REMOTE_ADDR or X-Forwarded-For (``1.2.3.4``,
    ``1.2.3.4:5678``, ``2001:db8::1``, ``[2001:db8::1]:5678``); None when it is not one."""
    value = value.strip()
    if value.startswith("["):
        host, bracket, port = value[1:].partition("]")
        if not bracket or (port and not (port[0] == ":" and port[1:].isdecimal())):
            return None
    elif value.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        host, _, port = value.partition(":")
        if not port.isdecimal():
            return None
    else:
        host = value
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    # A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d: the same client either way.
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address | None) -> bool:
    return address is not None and any(address in net for net in settings.TRUSTED_PROXIES)


def client_ip_address(request) -> str | None:
    """REMOTE_ADDR, unless the peer is a trusted proxy: then X-Forwarded-For read from the
    right, skipping trusted hops; the first untrusted address is the client.

    Only entries appended by trusted proxies are read, so a client's own entries (on the
    left) are never used. An entry that is not an address means a proxy is misconfigured:
    then the nearest trusted hop is the answer, never anything a client chose.
    """
    remote = request.META.get("REMOTE_ADDR")
    peer = parse_address(remote or "")
    if not is_trusted_proxy(peer):
        return remote if peer is None else str(peer)
    client = peer
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = parse_address(entry)
        if address is None:
            break
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client)


class ForwardedProtoMiddleware:
    """Drops X-Forwarded-Proto unless a trusted proxy sent the request: SECURE_PROXY_SSL_HEADER
    would otherwise let any client that reaches the app directly claim HTTPS. First in
    MIDDLEWARE, before SecurityMiddleware reads it for the HTTPS redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_trusted_proxy(parse_address(request.META.get("REMOTE_ADDR") or "")):
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)
