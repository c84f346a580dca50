"""Redirect URLs: parsed and validated so the worker, browsers and Python all read the same host."""
from __future__ import annotations

import pytest

from sandbox.effect_rules import check_effects
from sandbox.errors import InvalidEffectError
from sandbox.limits import Limits
from tests.sandbox.attacks.runner import expect

ABSOLUTE = "must be an absolute http(s) URL"
PLAIN = "url must not contain whitespace, control characters or '\\'"

CASES = [
    # Ports: in range and digits only (urlsplit raised a raw ValueError past 65535).
    ("http://a:99999999/x", "url port '99999999' must be a number from 1 to 65535"),
    ("http://a:65536/x", "url port '65536' must be a number from 1 to 65535"),
    ("http://a:0/x", "url port '0' must be a number from 1 to 65535"),
    ("http://a:8x/x", "url port '8x' must be a number from 1 to 65535"),
    ("http://a:-1/x", "url port '-1' must be a number from 1 to 65535"),
    ("http://a:\uff18\uff10/x", "url port '\uff18\uff10' must be a number from 1 to 65535"),
    # Host syntax: [IPv6] only in brackets (urlsplit took IPvFuture, WHATWG does not).
    ("http://[v1.x]/x", "url host '[v1.x]' is not a valid [IPv6] address"),
    ("http://[::1/x", "url host '[::1' is not a valid [IPv6] address"),
    ("http://[1.2.3.4]/x", "url host '[1.2.3.4]' is not a valid [IPv6] address"),
    ("http://[fe80::1%25eth0]/x", "url host '[fe80::1%25eth0]' is not a valid [IPv6] address"),
    ("http://[::1]x/", "url 'http://[::1]x/' has text after its [IPv6] host"),
    ("http://a%2fb/x", "url host 'a%2fb' contains a character no host may have"),
    ("http://a%00b/x", "url host 'a%00b' contains a character no host may have"),
    ("http://a[b/x", "url host 'a[b' contains a character no host may have"),
    ("http://%ff/x", "url host '%ff' is not percent-encoded UTF-8"),
    ("http://1.2.3.999/x", "url host '1.2.3.999' is not a valid IPv4 address"),
    ("http://0x7f.1/x", "url host '0x7f.1' is not a valid IPv4 address"),
    ("http://:80/x", ABSOLUTE),
    ("https:///nohost", ABSOLUTE),
    # Scheme http or https, spelled with '//'.
    ("javascript:alert(1)", ABSOLUTE),
    ("ftp://a.example/x", ABSOLUTE),
    ("https:a.example/x", ABSOLUTE),
    ("//a.example/x", ABSOLUTE),
    ("/relative", ABSOLUTE),
    # No userinfo: 'https://trusted.example@evil.example' shows one host and goes to another.
    ("https://trusted.example@evil.example/x", "must not contain a user name or password"),
    ("https://u:p@a.example/x", "url 'https://u:p@a.example/x' must not contain a user name"),
    ("https://@a.example/x", "must not contain a user name or password"),
    # Whitespace, control characters and backslashes: parsers disagree on each.
    ("https://a.example\\@evil.example/x", PLAIN),
    ("https:/\\evil.example/x", PLAIN),
    ("https://a.example/x y", PLAIN),
    ("https://a.example/\tx", PLAIN),
    ("https://a.exa\nmple/x", PLAIN),
    ("https://a.example/\x00", PLAIN),
    ("https://a.example/\x7f", PLAIN),
    ("https://a.example/\x85", PLAIN),
    ("https://a.example/\u2028", PLAIN),
]

ALLOWED = [
    "https://idv.example.com/start",
    "HTTPS://A.EXAMPLE/x",
    "http://localhost:8080/cb",
    "http://a.example:65535/x",
    "http://a.example:1/x",
    "http://a.example:/x",
    "http://[::1]/x",
    "http://[::1]:8080/x",
    "http://127.0.0.1:9/x",
    "https://a.example?next=https://b.example/@x",
    "https://a.example#frag@x",
    "https://b\u00fccher.example/x",
    "https://xn--bcher-kva.example/x",
    "https://a.example/%20x",
]


def _redirect(target: str) -> str:
    return f"api.redirect.send_user_to({target!r})"


@pytest.mark.parametrize(("target", "fragment"), CASES)
def test_bad_redirect_urls_are_refused(target: str, fragment: str) -> None:
    result = expect(_redirect(target), "error", "ApiUsageError", fragment)
    assert result.message.startswith("api.redirect.send_user_to: ")


@pytest.mark.parametrize("target", ALLOWED)
def test_good_redirect_urls_are_kept_as_written(target: str) -> None:
    result = expect(_redirect(target) + "\nprint('sent')", "ok", None, "sent\n")
    assert result.outcome is not None
    assert result.outcome.effects == [
        {"op": "redirect.send_user_to", "args": {"url": target, "query": None}}]


WORKER_CASES = [
    ("http://a:99999999/x", "url port '99999999' must be a number from 1 to 65535"),
    ("http://[v1.x]/x", "url host '[v1.x]' is not a valid [IPv6] address"),
    ("http://[::1/x", "url host '[::1' is not a valid [IPv6] address"),
    ("https://trusted.example@evil.example/x", "must not contain a user name or password"),
    ("https:/\\evil.example/x", PLAIN),
]


@pytest.mark.parametrize(("target", "fragment"), WORKER_CASES)
def test_the_worker_refuses_the_same_urls(target: str, fragment: str) -> None:
    effects = [{"op": "redirect.send_user_to", "args": {"url": target, "query": None}}]
    with pytest.raises(InvalidEffectError) as caught:
        check_effects("post-login", effects, Limits(), frozenset())
    assert (caught.value.index, caught.value.op) == (0, "redirect.send_user_to")
    assert fragment in caught.value.problem
