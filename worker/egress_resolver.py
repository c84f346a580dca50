"""DNS for an action's requests: resolve, check every address, and pin the connection to them.

`resolve_checked` asks the system resolver once and keeps only the addresses the policy allows
(worker/egress_addresses.py). The connector's resolver (`PinnedResolver`) answers only from
what was checked for that host, so aiohttp cannot ask DNS again and connect to whatever a
rebinding name answers the second time.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


class DnsLookups:
    """The system resolver, on threads of its own, at most `per_tenant` lookups per tenant.

    getaddrinfo blocks its thread until the name servers answer or give up, and a cancelled
    lookup keeps blocking it. A tenant that allows a zone whose servers never answer would
    otherwise fill the shared thread pool and stall every other tenant's requests (and the
    worker's own executor work); here it holds at most `per_tenant` of `threads` threads,
    counted until each lookup really ends.
    """

    def __init__(self, threads: int = 16, per_tenant: int = 2,
                 getaddrinfo: Callable[..., list[Any]] = socket.getaddrinfo) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="egress-dns")
        self._per_tenant = per_tenant
        self._getaddrinfo = getaddrinfo
        self._busy: dict[str, int] = {}  # tenant -> lookups whose thread has not returned yet
        self._freed = asyncio.Event()

    async def lookup(self, tenant: str, host: str, port: int) -> list[Any]:
        while self._busy.get(tenant, 0) >= self._per_tenant:
            self._freed.clear()
            await self._freed.wait()
        self._busy[tenant] = self._busy.get(tenant, 0) + 1
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self._getaddrinfo, host, port, 0,
                                      socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG)
        future.add_done_callback(lambda _done: self._release(tenant))
        return await asyncio.shield(future)  # a cancelled caller leaves the count to the thread

    def _release(self, tenant: str) -> None:
        left = self._busy.pop(tenant, 1) - 1
        if left:
            self._busy[tenant] = left
        self._freed.set()


async def resolve_checked(host: str, port: int, *, allow_loopback: bool,
                          lookups: DnsLookups, tenant: str) -> list[ResolveResult]:
    """Every address of `host` the policy allows, in getaddrinfo's order; AddressRefused
    when there are addresses but none allowed, NotResolved when there are none."""
    try:
        infos = await lookups.lookup(tenant, host, port)
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
