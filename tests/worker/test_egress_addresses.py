"""Which addresses an action's request may reach: every refused range, its IPv6 disguises,
and names checked by what they resolve to (the system resolver, through /etc/hosts)."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from typing import Any

import pytest

from worker.egress_addresses import refusal
from worker.egress_resolver import (
    AddressRefused,
    DnsLookups,
    NotResolved,
    PinnedResolver,
    resolve_checked,
)

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private (RFC 1918)"), ("172.16.0.1", "private (RFC 1918)"),
    ("172.31.255.254", "private (RFC 1918)"), ("192.168.1.1", "private (RFC 1918)"),
    ("fc00::1", "unique local (ULA)"), ("fd12:3456::1", "unique local (ULA)"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT (RFC 6598)"), ("100.127.255.254", "carrier-grade NAT (RFC 6598)"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified or 'this network'"), ("::", "unspecified"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
    ("192.0.2.1", "documentation"), ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"), ("192.0.0.8", "IETF protocol assignments"),
    ("2001::1", "IETF protocol assignments (Teredo and others)"),
    # IPv6 forms that carry an IPv4 address are judged by it
    ("::ffff:127.0.0.1", "loopback, inside an IPv6 address"),
    ("::ffff:10.0.0.1", "private (RFC 1918), inside an IPv6 address"),
    ("::ffff:169.254.169.254", "cloud metadata, inside an IPv6 address"),
    ("::127.0.0.1", "loopback, inside an IPv6 address"),
    ("64:ff9b::a00:1", "private (RFC 1918), inside an IPv6 address"),
    ("2002:a00:1::1", "private (RFC 1918), inside an IPv6 address"),
    ("::ffff:0:a00:1", "private (RFC 1918), inside an IPv6 address"),  # SIIT's translated form
    ("::ffff:0:7f00:1", "loopback, inside an IPv6 address"),
    # ranges newer than the ipaddress module's registry
    ("3fff::1", "documentation"), ("5f00::1", "segment routing (SRv6) SIDs"),
]
ALLOWED = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1",
           "::ffff:8.8.8.8", "64:ff9b::808:808", "::ffff:0:808:808", "172.32.0.1",
           "100.128.0.1", "11.0.0.1"]


async def resolved(host: str, port: int, *, allow_loopback: bool) -> list:
    return await resolve_checked(host, port, allow_loopback=allow_loopback,
                                 lookups=DnsLookups(), tenant="acme")



@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_refused_ranges(text: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(text)) == why


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_pass(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


def test_a_scoped_address_is_refused() -> None:
    assert refusal(ipaddress.ip_address("fe80::1%eth0")) == "link-local (scoped)"


@pytest.mark.parametrize("text", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_allowance_lets_loopback_through(text: str) -> None:
    assert refusal(ipaddress.ip_address(text), allow_loopback=True) is None


@pytest.mark.parametrize("text", ["10.0.0.1", "169.254.169.254", "fd00:ec2::254", "0.0.0.0",
                                  "::ffff:192.168.0.1", "fe80::1", "100.64.0.1",
                                  # loopback inside forms that leave the host (a NAT64
                                  # gateway, a 6to4 relay, the default route)
                                  "64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1"])
def test_the_loopback_allowance_allows_nothing_else(text: str) -> None:
    assert refusal(ipaddress.ip_address(text), allow_loopback=True) is not None


async def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    # `localhost` resolves through /etc/hosts to loopback: refused although it is a name.
    with pytest.raises(AddressRefused, match="loopback") as refused:
        await resolved("localhost", 80, allow_loopback=False)
    assert refused.value.host == "localhost"
    allowed = await resolved("localhost", 8080, allow_loopback=True)
    assert allowed and {a["host"] for a in allowed} <= {"127.0.0.1", "::1"}
    assert {a["port"] for a in allowed} == {8080}


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0"])
async def test_numeric_disguises_of_loopback_are_refused(host: str) -> None:
    with pytest.raises(AddressRefused):
        await resolved(host, 80, allow_loopback=False)


async def test_a_name_that_does_not_resolve() -> None:
    with pytest.raises(NotResolved):
        await resolved("no-such-host.invalid", 443, allow_loopback=True)


async def test_the_pinned_resolver_answers_only_checked_hosts() -> None:
    resolver = PinnedResolver()
    checked = await resolved("localhost", 80, allow_loopback=True)
    resolver.pin("localhost", 80, checked)
    assert await resolver.resolve("localhost", 80) == checked
    with pytest.raises(OSError, match="was not checked"):
        await resolver.resolve("localhost", 81)
    with pytest.raises(OSError, match="was not checked"):
        await resolver.resolve("example.com", 80)


async def test_a_tenant_whose_dns_hangs_holds_two_lookup_threads_and_no_more() -> None:
    """A stand-in resolver whose answer for one tenant's zone never comes (until released):
    that tenant's third lookup waits, another tenant's lookup is answered meanwhile."""
    stuck = threading.Event()
    calls: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any) -> list[Any]:
        calls.append(host)
        if host.endswith(".slow.example"):
            stuck.wait(30)
        return socket.getaddrinfo("127.0.0.1", port, *args)

    lookups = DnsLookups(threads=4, per_tenant=2, getaddrinfo=getaddrinfo)
    hanging = [asyncio.create_task(lookups.lookup("slow", f"h{i}.slow.example", 80))
               for i in range(3)]
    try:
        for _ in range(100):  # the two admitted lookups reach their threads (bounded wait)
            if len(calls) == 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # time enough for a third, were it let through
        assert sorted(calls) == ["h0.slow.example", "h1.slow.example"]
        answer = await asyncio.wait_for(lookups.lookup("other", "fast.example", 80), 10)
        assert answer and answer[0][4][0] == "127.0.0.1"
        assert sorted(calls) == ["fast.example", "h0.slow.example", "h1.slow.example"]
        # A caller that gives up (the action's deadline) does not free its thread's place.
        hanging[0].cancel()
        await asyncio.sleep(0.2)
        assert "h2.slow.example" not in calls
    finally:
        stuck.set()
    assert len(await asyncio.wait_for(hanging[2], 10)) > 0
    assert "h2.slow.example" in calls
