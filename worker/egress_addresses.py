"""Which resolved addresses an action's request may connect to: public unicast only.

Checked on the address a host name resolved to, never on the name, so a public name that
resolves to 10.0.0.5 (or is rebound to it) is refused like the literal. IPv6 forms that carry
an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64, 6to4) are judged by
that address.
"""
from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK = "loopback"
# (network, why it is refused), most specific first: the first match names the reason.
_REFUSED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (
        ("169.254.169.254/32", "cloud metadata"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("100.100.100.200/32", "cloud metadata"),
        ("127.0.0.0/8", LOOPBACK),
        ("::1/128", LOOPBACK),
        ("0.0.0.0/8", "unspecified or 'this network'"),
        ("::/128", "unspecified"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::/10", "link-local"),
        ("fc00::/7", "unique local (ULA)"),
        ("fec0::/10", "site-local (deprecated)"),
        ("224.0.0.0/4", "multicast"),
        ("ff00::/8", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing (SRv6) SIDs"),
        ("198.18.0.0/15", "benchmarking"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo and others)"),
    ))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for, if it is one of the translating forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:  # ::a.b.c.d, IPv4-compatible (deprecated)
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if packed >> 32 == 0xFFFF0000:  # ::ffff:0:a.b.c.d, IPv4-translated (SIIT, RFC 2765)
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def refusal(address: Address, *, allow_loopback: bool = False) -> str | None:
    """Why a request may not connect to `address`, or None when it may.

    `allow_loopback` (the operator's ACTIONS_EGRESS_ALLOW_LOOPBACK, for tests and local
    development) lets 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 through, nothing else.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "link-local (scoped)"
        inner = embedded_ipv4(address)
        if inner is not None:
            # Only an IPv4-mapped address is the local host's loopback; NAT64, 6to4 and
            # IPv4-compatible ones are routed off the host, so the allowance does not cover them.
            why = refusal(inner, allow_loopback=allow_loopback and address.ipv4_mapped is not None)
            return None if why is None else f"{why}, inside an IPv6 address"
    for network, why in _REFUSED:
        if address.version == network.version and address in network:
            if why == LOOPBACK and allow_loopback:
                return None
            return why
    if not address.is_global:  # anything the registries mark non-global that is not above
        return "not globally routable"
    return None


def parse(text: str) -> Address | None:
    """An address from getaddrinfo's text form (an IPv6 scope suffix kept), None if not one."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
