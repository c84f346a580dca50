"""`import ipaddress` in actions: the usual address and network work, through the wrappers."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import run_body

TYPICAL = [
    ("net = ipaddress.ip_network('10.0.0.0/8')\n"
     "print(ipaddress.ip_address('10.20.30.40') in net, ipaddress.ip_address('11.0.0.1') in net)",
     "True False"),
    ("print(ipaddress.ip_address('2001:db8::1') in ipaddress.ip_network('2001:db8::/32'),"
     " ipaddress.ip_address('10.0.0.1') in ipaddress.ip_network('::/0'))", "True False"),
    ("a = ipaddress.ip_address('192.168.1.7')\n"
     "print(a.is_private, a.is_global, a.is_loopback, a.is_multicast, a.version)",
     "True False False False 4"),
    ("print(ipaddress.ip_address('8.8.8.8').is_global, ipaddress.ip_address('::1').is_loopback,"
     " ipaddress.ip_address('fe80::1').is_link_local, ipaddress.ip_address('0.0.0.0').is_unspecified)",
     "True True True True"),
    ("a = ipaddress.ip_address('10.0.0.1')\nb = ipaddress.ip_address('10.0.0.2')\n"
     "print(a < b, a == ipaddress.ip_address('10.0.0.1'), a != b, max(a, b), a + 255, b - 2)",
     "True True True 10.0.0.2 10.0.1.0 10.0.0.0"),
    ("print(len({ipaddress.ip_address('1.1.1.1'), ipaddress.ip_address('1.1.1.1')}))", "1"),
    ("a = ipaddress.ip_address('::ffff:10.1.2.3')\nprint(a.ipv4_mapped, a.compressed, repr(a))",
     "10.1.2.3 ::ffff:10.1.2.3 IPv6Address('::ffff:10.1.2.3')"),
    ("a = ipaddress.ip_address('10.0.0.1')\nprint(int(a), a.packed, a.reverse_pointer, f'{a:x}')",
     "167772161 b'\\n\\x00\\x00\\x01' 1.0.0.10.in-addr.arpa 0a000001"),
    ("n = ipaddress.ip_network('192.0.2.0/24')\n"
     "print(n.num_addresses, n.prefixlen, n.netmask, n.broadcast_address, n[1], n[-1], n.with_netmask)",
     "256 24 255.255.255.0 192.0.2.255 192.0.2.1 192.0.2.255 192.0.2.0/255.255.255.0"),
    ("n = ipaddress.ip_network('10.0.0.0/29')\nprint([str(h) for h in n.hosts()][:3], len(list(n)))",
     "['10.0.0.1', '10.0.0.2', '10.0.0.3'] 8"),
    ("n = ipaddress.ip_network('10.0.0.0/8')\n"
     "print(n.supernet(), n.subnet_of(ipaddress.ip_network('0.0.0.0/0')), "
     "n.overlaps(ipaddress.ip_network('10.1.0.0/16')), [str(s) for s in n.subnets()])",
     "10.0.0.0/7 True True ['10.0.0.0/9', '10.128.0.0/9']"),
    ("n = ipaddress.ip_network('10.0.0.0/30')\n"
     "print([str(x) for x in n.address_exclude(ipaddress.ip_network('10.0.0.1/32'))])",
     "['10.0.0.2/31', '10.0.0.0/32']"),
    ("i = ipaddress.ip_interface('10.1.2.3/8')\n"
     "print(i.ip, i.network, i.with_prefixlen, i in ipaddress.ip_network('10.0.0.0/8'))",
     "10.1.2.3 10.0.0.0/8 10.1.2.3/8 True"),
    ("print(ipaddress.ip_network(('10.0.0.0', 8)), ipaddress.ip_network('10.1.2.3/8', strict=False),"
     " ipaddress.ip_network(('10.0.0.0', '255.0.0.0')))", "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8"),
    ("print([str(n) for n in ipaddress.collapse_addresses([ipaddress.ip_network('10.0.0.0/25'),"
     " ipaddress.ip_network('10.0.0.128/25')])])", "['10.0.0.0/24']"),
    ("f = ipaddress.ip_address('10.0.0.0')\nl = ipaddress.ip_address('10.0.0.5')\n"
     "print([str(n) for n in ipaddress.summarize_address_range(f, l)])",
     "['10.0.0.0/30', '10.0.0.4/31']"),
    ("try:\n    ipaddress.ip_address('999.1.1.1')\nexcept ValueError as e:\n    print(e)",
     "'999.1.1.1' does not appear to be an IPv4 or IPv6 address"),
    ("try:\n    ipaddress.ip_network('10.0.0.1/8')\nexcept ValueError as e:\n    print(e)",
     "10.0.0.1/8 has host bits set"),
    ("try:\n    ipaddress.ip_address('1.2.3.4.5')\nexcept ValueError as e:\n    print(e)",
     "'1.2.3.4.5' does not appear to be an IPv4 or IPv6 address"),
    ("try:\n    ipaddress.IPv4Network\nexcept AttributeError as e:\n    print('absent')",
     "absent"),
    ("print(issubclass(ipaddress.NetmaskValueError, ValueError), "
     "issubclass(ipaddress.AddressValueError, ValueError))", "True True"),
]


@pytest.mark.parametrize(("body", "logs"), TYPICAL)
def test_ipaddress_works_as_in_python(body: str, logs: str) -> None:
    result = run_body("import ipaddress\n" + body)
    assert (result.status, result.logs) == ("ok", logs + "\n"), result


CORPORATE = """
import ipaddress
CORPORATE = ipaddress.ip_network("10.0.0.0/8")

def on_execute_post_login(event, api):
    try:
        ip = ipaddress.ip_address(event.request.ip or "")
    except ValueError:
        api.access.deny("no valid client address")
        return
    if ip not in CORPORATE:
        api.access.deny("only the corporate network may sign in")
"""


@pytest.mark.parametrize(("ip", "status"), [("10.4.5.6", "ok"), ("203.0.113.9", "denied"),
                                            ("::1", "denied"), ("not-an-ip", "denied"),
                                            (None, "denied")])
def test_the_corporate_allow_list_action(ip: str | None, status: str) -> None:
    from tests.sandbox.attacks.runner import run_source
    result = run_source(CORPORATE, event={"request": {"ip": ip}})
    assert result.status == status, result
