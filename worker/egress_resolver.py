"""DNS for an action's requests: resolve, check every address, and pin the connection to them.

`resolve_checked` asks the system resolver once and keeps only the addresses the policy allows
(worker/egress_addresses.py). The connector's resolver (`PinnedResolver`) answers only from
what was checked for that host, so aiohttp cannot ask DNS again and connect to whatever a
rebinding name answers the second time.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from worker import egress_addresses


class AddressRefused(Exception):
    """Raised when a host has no address a request may connect to; `reasons` says why."""

    def __init__(self, host: str, reasons: list[str]) -> None:
        super().__init__(f"{host[:253]} resolves only to refused addresses "
                         f"({'; '.join(sorted(set(reasons)))})")
        self.host = host
        self.reasons = reasons


class NotResolved(Exception):
    """Raised when a host name does not resolve at all."""


async def resolve_checked(host: str, port: int, *, allow_loopback: bool) -> list[ResolveResult]:
    """Every address of `host` the policy allows, in getaddrinfo's order; AddressRefused
    when there are addresses but none allowed, NotResolved when there are none."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_ADDRCONFIG)
    except (socket.gaierror, UnicodeError) as exc:
        raise NotResolved(f"{host[:253]} does not resolve: {exc}") from None
    allowed: list[ResolveResult] = []
    refused: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    for family, _type, proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        text = str(sockaddr[0])
        address = egress_addresses.parse(text)
        why = ("not an IP address" if address is None else
               egress_addresses.refusal(address, allow_loopback=allow_loopback))
        if why is not None:
            refused.append(f"{text}: {why}")
            continue
        key = (family, text)
        if key in seen:
            continue
        seen.add(key)
        allowed.append({"hostname": host, "host": text, "port": port, "family": family,
                        "proto": proto, "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV})
    if allowed:
        return allowed
    if refused:
        raise AddressRefused(host, refused)
    raise NotResolved(f"{host[:253]} has no IPv4 or IPv6 address")


class PinnedResolver(AbstractResolver):
    """aiohttp's resolver for one execution's connector: only the checked addresses."""

    def __init__(self) -> None:
        self._pinned: dict[tuple[str, int], list[ResolveResult]] = {}

    def pin(self, host: str, port: int, addresses: list[ResolveResult]) -> None:
        self._pinned[(host, port)] = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = self._pinned.get((host, port))
        if not addresses:
            # Never the system resolver: every host is checked (and pinned) before its request.
            raise OSError(f"{host[:253]} was not checked for this request")
        return addresses

    async def close(self) -> None:
        self._pinned.clear()
