"""The egress allow-list grammar and its match against a request's scheme, host and port."""
from __future__ import annotations

import pytest

from runtime.egress_hosts import AllowList, AllowListError, parse_allow_list, parse_entry


@pytest.mark.parametrize(("raw", "canonical"), [
    ("api.example.com", "api.example.com"),
    ("API.Example.COM", "api.example.com"),
    ("  api.example.com ", "api.example.com"),
    ("*.sms.example", "*.sms.example"),
    ("https://api.example.com", "https://api.example.com"),
    ("http://api.example.com:8080", "http://api.example.com:8080"),
    ("api.example.com:8443", "api.example.com:8443"),
    ("203.0.113.7", "203.0.113.7"),
    ("[2001:DB8::0:1]:8443", "[2001:db8::1]:8443"),
    ("localhost", "localhost"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
])
def test_entries_are_read_and_written_canonically(raw: str, canonical: str) -> None:
    assert parse_entry(raw).canonical() == canonical


@pytest.mark.parametrize(("raw", "problem"), [
    ("", "1 to 300 characters"),
    ("ftp://files.example", "scheme must be https or http"),
    ("https://api.example.com/path", "no path"),
    ("api.example.com?x=1", "no path"),
    ("user@api.example.com", "credentials"),
    ("api example.com", "spaces"),
    ("*.example", "at least two labels"),
    ("*", "wildcard is only allowed"),
    ("a.*.example.com", "wildcard is only allowed"),
    ("*x.example.com", "wildcard is only allowed"),
    ("*.*.example.com", "wildcard is only allowed"),
    ("api.example.com:0", "port must be"),
    ("api.example.com:65536", "port must be"),
    ("api.example.com:http", "port must be"),
    ("-bad.example", "not a host name label"),
    ("bad-.example", "not a host name label"),
    ("a..example", "not a host name label"),
    ("bücher.example", "xn--"),
    ("1.2.3", "dotted-quad"),
    ("999.1.1.1", "dotted-quad"),
    ("[::1", "unclosed"),
    ("[not-v6]", "not an IPv6 address"),
    ("[::1]x", "only a :port"),
    ("*.1.2.3", "dotted-quad"),
    ("*.1.2.3.4", "wildcard cannot cover IP"),
    ("a" * 64 + ".example", "not a host name label"),
])
def test_bad_entries_say_what_is_wrong(raw: str, problem: str) -> None:
    with pytest.raises(AllowListError, match=problem.replace("?", r"\?").replace("*", r"\*")):
        parse_entry(raw)


def test_non_strings_and_long_lists_are_refused() -> None:
    for raw in (None, 7, ["x"], {"a": 1}):
        with pytest.raises(AllowListError, match="must be a string"):
            parse_entry(raw)
    with pytest.raises(AllowListError, match="list of strings"):
        parse_allow_list("api.example.com")
    with pytest.raises(AllowListError, match="at most 100"):
        parse_allow_list([f"h{i}.example" for i in range(101)])
    assert [e.canonical() for e in parse_allow_list(["A.example", "a.example", "b.example"])] == [
        "a.example", "b.example"]


MATCHES = [
    # entry, (scheme, host, port), allowed
    ("api.example.com", ("https", "api.example.com", 443), True),
    ("api.example.com", ("http", "api.example.com", 80), True),
    ("api.example.com", ("https", "api.example.com", 8443), False),
    ("api.example.com", ("http", "api.example.com", 443), False),
    ("api.example.com", ("https", "API.EXAMPLE.COM.", 443), True),
    ("api.example.com", ("https", "x.api.example.com", 443), False),
    ("api.example.com", ("https", "api.example.com.evil.example", 443), False),
    ("api.example.com", ("https", "example.com", 443), False),
    ("https://api.example.com", ("http", "api.example.com", 80), False),
    ("https://api.example.com:8443", ("https", "api.example.com", 8443), True),
    ("https://api.example.com:8443", ("https", "api.example.com", 443), False),
    ("api.example.com:8080", ("http", "api.example.com", 8080), True),
    ("api.example.com:8080", ("https", "api.example.com", 8080), True),
    ("*.sms.example", ("https", "eu.sms.example", 443), True),
    ("*.sms.example", ("https", "sms.example", 443), False),
    ("*.sms.example", ("https", "a.b.sms.example", 443), False),
    ("*.sms.example", ("https", "eusms.example", 443), False),
    ("*.sms.example", ("https", "-x.sms.example", 443), False),
    ("http://127.0.0.1:9000", ("http", "127.0.0.1", 9000), True),
    ("http://127.0.0.1:9000", ("http", "127.0.0.1", 6379), False),
    ("[::1]:9000", ("http", "::1", 9000), True),
    ("[::1]:9000", ("http", "0:0::1", 9000), True),
]


@pytest.mark.parametrize(("entry", "target", "allowed"), MATCHES)
def test_matching(entry: str, target: tuple[str, str, int], allowed: bool) -> None:
    assert AllowList((parse_entry(entry),)).allows(*target) is allowed


def test_the_empty_list_allows_nothing_and_bad_stored_entries_are_dropped() -> None:
    assert not AllowList().allows("https", "api.example.com", 443)
    stored = AllowList.of(["nope nope", "api.example.com"])
    assert len(stored.entries) == 1 and stored.allows("https", "api.example.com", 443)
