"""Hostile `ipaddress` use: bombs refused before they start, no way to the stdlib's objects or
classes, no guest object handed to library code, nothing kept past the run."""
from __future__ import annotations

import ipaddress

import pytest

from sandbox import ipaddress_view
from tests.sandbox.attacks.runner import assert_healthy, expect, run_body

NET6 = "n = ipaddress.ip_network('::/0')\n"
# (snippet, status, error type, fragment of the message or of the logs)
CASES = [
    # Generators with one step per address: refused at once, not after the deadline.
    ("import ipaddress\nlist(ipaddress.ip_network('::/0').hosts())", "error", "ValueError",
     "hosts() would yield 340282366920938463463374607431768211456 items, over the 65536"),
    ("import ipaddress\n" + NET6 + "for a in n:\n    pass", "error", "ValueError",
     "iterating this network would yield"),
    ("import ipaddress\nlist(ipaddress.ip_network('10.0.0.0/8').hosts())", "error", "ValueError",
     "hosts() would yield 16777216 items"),
    ("import ipaddress\n" + NET6 + "list(n.subnets(new_prefix=128))", "error", "ValueError",
     "subnets() would yield 2**128 networks, over the 2**16"),
    ("import ipaddress\n" + NET6 + "n.subnets(prefixlen_diff=64)", "error", "ValueError",
     "2**64 networks"),
    ("import ipaddress\nipaddress.collapse_addresses(ipaddress.ip_address(i) for i in range(10**6))",
     "error", "ValueError", "collapse_addresses takes at most 10000 items"),
    ("import ipaddress\nipaddress.ip_address('1' * 10**6)", "error", "ValueError",
     "address is 1000000 characters, over 256"),
    ("import ipaddress\nipaddress.ip_network(('10.0.0.0', '0' * 10**5 + '8'))", "error",
     "ValueError", "prefix is over 256 characters"),
    ("import ipaddress\nipaddress.ip_address(10**5000)", "error", "ValueError",
     "address as an int must be from 0 to 2**128 - 1"),
    ("import ipaddress\nf'{ipaddress.ip_address(\"1.2.3.4\"):>1000000000}'", "error", "ValueError",
     "invalid format spec"),
    # No way to the real objects, their classes or internals.
    ("import ipaddress\nipaddress.ip_address('1.2.3.4')._inner", "compile", None,
     "invalid attribute name because it starts with"),
    ("import ipaddress\ngetattr(ipaddress.ip_address('1.2.3.4'), '_inner')", "error",
     "AttributeError", "invalid attribute name"),
    ("import ipaddress\nipaddress.ip_address('1.2.3.4').__class__", "compile", None,
     "invalid attribute name"),
    ("import ipaddress\nipaddress.ip_address('1.2.3.4').hosts", "error", "AttributeError",
     "has no attribute 'hosts' available to actions"),
    ("import ipaddress\nipaddress.ip_network('10.0.0.0/8').hosts.__self__", "compile", None,
     "invalid attribute name"),
    ("import ipaddress\nipaddress.ip_address('1.2.3.4').is_site_local", "error",
     "AttributeError", "is_site_local"),
    ("import ipaddress\nipaddress.IPv4Address", "error", "AttributeError",
     "module 'ipaddress' has no attribute 'IPv4Address' available to actions"),
    ("import ipaddress\nipaddress.ip_network('10.0.0.0/8').hosts().gi_frame", "compile", None,
     "restricted name"),
    ("import ipaddress\nit = ipaddress.ip_network('10.0.0.0/30').hosts()\nit.send(None)", "error",
     "AttributeError", "send"),
    ("import ipaddress\na = ipaddress.ip_address('1.2.3.4')\na.x = 1", "error", "TypeError",
     "cannot modify"),
    ("import ipaddress\nsetattr(ipaddress.ip_address('1.2.3.4'), 'version', 6)", "error",
     "TypeError", "cannot modify"),
    # Guest objects never reach the library.
    ("import ipaddress\nclass Spy:\n    def __init__(self):\n        self.network_address = 1\n"
     "ipaddress.ip_network('10.0.0.0/8').overlaps(Spy())", "error", "TypeError",
     "other must be an ip_network(...), not Spy"),
    ("import ipaddress\nclass Spy:\n    pass\nipaddress.ip_address(Spy())", "error", "TypeError",
     "address must be a str, int, bytes or ip_address(...), not Spy"),
    ("import ipaddress\nipaddress.ip_address(True)", "error", "TypeError", "not bool"),
    ("import ipaddress\nipaddress.ip_network('10.0.0.0/8', strict=[])", "error", "TypeError",
     "strict must be True or False"),
    ("import ipaddress\nipaddress.ip_network('10.0.0.0/8')[1.5]", "error", "TypeError",
     "network indices must be int, not float"),
    ("import ipaddress\nipaddress.ip_address(b'\\x01\\x02\\x03')", "error", "ValueError",
     "must be 4 (IPv4) or 16 (IPv6) long"),
    ("import ipaddress\nipaddress.ip_address('1.2.3.4') + 1.5", "error", "TypeError",
     "unsupported operand"),
    ("import ipaddress\nipaddress.ip_address('1.2.3.4') < ipaddress.ip_address('::1')", "error",
     "TypeError", "not of the same version"),
    ("import ipaddress\nprint(ipaddress.ip_address('10.0.0.1') in ipaddress.ip_network('::/0'),"
     " 'x' in ipaddress.ip_network('10.0.0.0/8'),"
     " ipaddress.ip_address('1.2.3.4') == '1.2.3.4')", "ok", None, "False False False"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_hostile_ipaddress_use_is_refused(body: str, status: str, error_type: str | None,
                                          fragment: str) -> None:
    expect(body, status, error_type, fragment)


def test_nothing_the_run_parsed_stays_in_ipaddress_caches() -> None:
    body = ("import ipaddress\nfor i in range(200):\n"
            "    n = ipaddress.ip_network(('10.0.0.0', '0' * (i % 50) + '8'))\n"
            "    ipaddress.ip_address('10.0.%d.1' % i).is_private\n"
            "    n.is_global\n")
    result = run_body(body)
    assert result.status == "ok", result
    assert all(key in (0, *range(0, 129)) or (type(key) is str and not key.startswith("00"))
               for key in ipaddress._BaseV4._netmask_cache)  # type: ignore[attr-defined]
    assert ipaddress.IPv4Address.is_private.fget.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert ipaddress.IPv4Network.is_global.fget.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert_healthy()


def test_every_wrapper_argument_is_checked_by_exact_type() -> None:
    """The wrappers unwrap only their own kind: a look-alike is refused, not duck-typed."""
    network = ipaddress_view.ip_network("10.0.0.0/8")
    with pytest.raises(TypeError):
        network.subnet_of(ipaddress.ip_network("0.0.0.0/0"))  # a real stdlib object
    assert ipaddress_view.ip_address(ipaddress_view.ip_address("1.2.3.4")) == \
        ipaddress_view.ip_address("1.2.3.4")
