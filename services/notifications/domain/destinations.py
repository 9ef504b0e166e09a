"""Where a webhook may go: only to public addresses on the internet, never into our own network
(loopback, private, link-local, multicast, reserved). Checked on every address a subscriber's
host resolves to, when it subscribes and again at every connection (DNS can change between)."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (::ffff:127.0.0.1, 6to4): what it would reach."""
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour or address
    return address


def refusal(address: str) -> str | None:
    """Why a webhook may not call `address` (an IP as a resolver answers it), or None."""
    try:
        ip = _unwrapped(ipaddress.ip_address(address.split("%", 1)[0]))  # fe80::1%eth0
    except ValueError:
        return "not an IP address"
    for reason, applies in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if applies:
            return f"{ip} is a {reason} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def first_refusal(addresses: list[str]) -> str | None:
    """A host is refused when any of its addresses is: a name that resolves to a public and a
    private address could be reached at either."""
    return next((r for r in map(refusal, addresses) if r is not None), None)
