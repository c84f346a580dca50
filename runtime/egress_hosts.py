"""A tenant's egress allow-list: the grammar of its entries and the match against a URL's origin.

An entry is `[scheme://]host[:port]`: `api.example.com`, `*.sms.example` (any ONE label in
front of `sms.example`), `https://api.example.com:8443`, an IPv4 address or a bracketed IPv6
one. Without a scheme both https and http match; without a port, only the scheme's default
port (443, 80). Matching is on the URL as the worker parsed it (lower-case ASCII host); the
address the host resolves to is checked separately (worker/egress_addresses.py).

Pure: the gateway validates entries with it, the worker matches requests with it.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_ENTRIES = 100
MAX_ENTRY_CHARS = 300
MAX_HOST_CHARS = 253
SCHEMES = ("https", "http")
DEFAULT_PORTS = {"https": 443, "http": 80}
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")


class AllowListError(ValueError):
    """Raised when an allow-list entry is not `[scheme://]host[:port]`; `entry` is the culprit."""

    def __init__(self, entry: str, problem: str) -> None:
        super().__init__(f"{entry[:80]!r}: {problem}")
        self.entry = entry
        self.problem = problem


@dataclass(frozen=True)
class AllowedHost:
    """One parsed entry. `host` is lower-case ASCII, an IPv6 address without brackets;
    for a wildcard it is the part after `*.`."""

    host: str
    wildcard: bool = False
    scheme: str | None = None  # None: https or http
    port: int | None = None  # None: the scheme's default port

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme is not None and scheme != self.scheme:
            return False
        if port != (DEFAULT_PORTS.get(scheme) if self.port is None else self.port):
            return False
        if not self.wildcard:
            return host == self.host
        label, dot, rest = host.partition(".")
        return bool(dot) and rest == self.host and _LABEL.fullmatch(label) is not None

    def canonical(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = ("*." if self.wildcard else "") + host
        if self.port is not None:
            text += f":{self.port}"
        return f"{self.scheme}://{text}" if self.scheme else text


def normalize_host(host: str) -> str:
    """A request host as entries are written: lower case, no trailing dot, IPv6 compressed."""
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.strip("[]")).compressed
        except ValueError:
            return host
    return host


def _hostname(entry: str, host: str) -> str:
    if not host:
        raise AllowListError(entry, "no host")
    if not host.isascii():
        raise AllowListError(entry, "write an internationalized name in its ASCII (xn--) form")
    if len(host) > MAX_HOST_CHARS:
        raise AllowListError(entry, f"host is longer than {MAX_HOST_CHARS} characters")
    labels = host.split(".")
    for label in labels:
        if _LABEL.fullmatch(label) is None:
            raise AllowListError(entry, f"{label[:64]!r} is not a host name label "
                                 "(letters, digits and inner hyphens, at most 63)")
    if labels[-1].isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise AllowListError(entry, "not a host name nor a dotted-quad IPv4 address") from None
    return host


def parse_entry(raw: object) -> AllowedHost:
    """One entry, or AllowListError saying what is wrong with it."""
    if type(raw) is not str:
        raise AllowListError(repr(raw)[:80], "an entry must be a string")
    entry = raw.strip().lower()
    if not entry or len(entry) > MAX_ENTRY_CHARS:
        raise AllowListError(entry, f"an entry is 1 to {MAX_ENTRY_CHARS} characters")
    scheme = None
    rest = entry
    if "://" in entry:
        scheme, _, rest = entry.partition("://")
        if scheme not in SCHEMES:
            raise AllowListError(entry, "the scheme must be https or http")
    if any(c in rest for c in "/?#@\\") or any(c.isspace() for c in rest):
        raise AllowListError(entry, "only [scheme://]host[:port]: no path, query, "
                             "credentials or spaces")
    port = None
    if rest.startswith("["):
        host, bracket, tail = rest[1:].partition("]")
        if not bracket:
            raise AllowListError(entry, "unclosed [ of an IPv6 address")
        try:
            host = ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise AllowListError(entry, "not an IPv6 address inside [ ]") from None
        if tail and not tail.startswith(":"):
            raise AllowListError(entry, "only a :port may follow an IPv6 address")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text_raw = rest.partition(":")
        port_text = port_text_raw if colon else None
    if port_text is not None:
        if _PORT.fullmatch(port_text) is None or not 1 <= int(port_text) <= 65535:
            raise AllowListError(entry, "the port must be a number from 1 to 65535")
        port = int(port_text)
    if ":" in host:  # an IPv6 address, parsed above
        return AllowedHost(host=host, scheme=scheme, port=port)
    wildcard = host.startswith("*.")
    if wildcard:
        host = host[2:]
    if "*" in host:
        raise AllowListError(entry, "a wildcard is only allowed as the whole first label: *.x.y")
    if wildcard and host.count(".") < 1:
        raise AllowListError(entry, "a wildcard needs at least two labels after it "
                             "(*.sms.example, not *.example)")
    host = _hostname(entry, host)
    if wildcard and host.split(".")[-1].isdigit():
        raise AllowListError(entry, "a wildcard cannot cover IP addresses")
    return AllowedHost(host=host, wildcard=wildcard, scheme=scheme, port=port)


def parse_allow_list(raw: object) -> list[AllowedHost]:
    """A whole list: at most MAX_ENTRIES valid entries, duplicates dropped, order kept."""
    if type(raw) is not list:
        raise AllowListError("allowed_hosts", "must be a list of strings")
    if len(raw) > MAX_ENTRIES:
        raise AllowListError("allowed_hosts", f"at most {MAX_ENTRIES} entries")
    parsed: dict[str, AllowedHost] = {}
    for item in raw:
        entry = parse_entry(item)
        parsed.setdefault(entry.canonical(), entry)
    return list(parsed.values())


@dataclass(frozen=True)
class AllowList:
    """What one tenant may reach; empty (the default) allows nothing."""

    entries: tuple[AllowedHost, ...] = ()

    @classmethod
    def of(cls, raw: Iterable[str]) -> AllowList:
        """From stored (already validated) entries; one that no longer parses is dropped."""
        entries = []
        for item in raw:
            try:
                entries.append(parse_entry(item))
            except AllowListError:
                continue
        return cls(tuple(entries))

    def allows(self, scheme: str, host: str, port: int) -> bool:
        host = normalize_host(host)
        return any(entry.matches(scheme, host, port) for entry in self.entries)
