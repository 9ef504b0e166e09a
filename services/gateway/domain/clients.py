"""Which address a request came from, for the anonymous rate limit and X-Forwarded-For.

The connection's peer, unless the peer is one of the proxies configured in front of the
gateway: then the nearest address in X-Forwarded-For that is not one of those proxies. Anyone
else's X-Forwarded-For is ignored, so a caller cannot pick its own rate-limit bucket."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 127.0.0.1, ::1` -> networks; ValueError names a bad entry."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an address or network: {entry!r}") from exc
    return tuple(networks)


def is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """`forwarded_for`: every X-Forwarded-For header's value, in order."""
    if not is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):  # the proxies append: the nearest hop is the last
        if not is_trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage a proxy passed on: the proxy is who we know
    return hops[0] if hops else peer
