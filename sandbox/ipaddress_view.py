"""The action's `ipaddress`: parse addresses, networks and interfaces, test membership and ranges.

An action gets wrappers around the standard library's objects, never the objects or their
classes: the real ones lead to their class (and its constructors, caches and `_constants`) and
to generators that run for 2**128 steps. A wrapper answers a listed set of attributes,
compares and hashes like the object it holds, and takes only plain values or other wrappers as
arguments, so no guest object reaches library code. Anything that yields one item per address
(`hosts()`, iteration, `subnets()`) refuses past MAX_ITERATED_ADDRESSES before it starts.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from sandbox.iterators import GuardedIterator

TEXT_LIMIT_CHARS = 256  # an IPv6 network with a scope id and netmask is well under this
FORMAT_SPEC_LIMIT_CHARS = 8
MAX_ITERATED_ADDRESSES = 65_536  # a /16 of IPv4: iterate a smaller network, or test membership
MAX_SUBNET_BITS = 16  # subnets() yields at most 2**16 networks
MAX_COLLAPSED_INPUTS = 10_000

_ADDRESSES = (ipaddress.IPv4Address, ipaddress.IPv6Address)
_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)
_INTERFACES = (ipaddress.IPv4Interface, ipaddress.IPv6Interface)
_COMMON = frozenset({
    "version", "max_prefixlen", "compressed", "exploded", "is_multicast", "is_private",
    "is_global", "is_unspecified", "is_reserved", "is_loopback", "is_link_local",
    "is_site_local",  # IPv6 only: an IPv4 object answers AttributeError, as the stdlib's
})
ADDRESS_ATTRIBUTES = _COMMON | {"packed", "reverse_pointer", "ipv4_mapped", "sixtofour",
                                "teredo", "scope_id"}
NETWORK_ATTRIBUTES = _COMMON | {"prefixlen", "num_addresses", "network_address",
                                "broadcast_address", "netmask", "hostmask", "with_prefixlen",
                                "with_netmask", "with_hostmask"}
INTERFACE_ATTRIBUTES = ADDRESS_ATTRIBUTES | {"ip", "network", "netmask", "hostmask",
                                             "with_prefixlen", "with_netmask", "with_hostmask"}

AddressValueError = ipaddress.AddressValueError
NetmaskValueError = ipaddress.NetmaskValueError


def _wrap(value: Any) -> Any:
    """A stdlib result as the action may see it: wrappers, tuples of them, or plain values."""
    if isinstance(value, _INTERFACES):  # before _ADDRESSES: an interface is an address subclass
        return Interface(value)
    if isinstance(value, _ADDRESSES):
        return Address(value)
    if isinstance(value, _NETWORKS):
        return Network(value)
    if type(value) is tuple:
        return tuple(_wrap(item) for item in value)
    if value is None or type(value) in (str, int, bool, bytes):
        return value
    raise TypeError(f"ipaddress returned an unexpected {type(value).__name__}")


class _View:
    """Immutable; `_inner` (the stdlib object) is unreachable, as every `_` name is."""

    __slots__ = ("_inner",)
    _inner: Any
    _attributes: frozenset[str] = frozenset()

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    def __getattr__(self, name: str) -> Any:
        if name in self._attributes:
            return _wrap(getattr(self._inner, name))
        raise AttributeError(f"{type(self._inner).__name__} has no attribute {name!r} "
                             "available to actions")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ipaddress objects are read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ipaddress objects are read-only")

    def __str__(self) -> str:
        return str(self._inner)

    def __repr__(self) -> str:
        return repr(self._inner)

    def __hash__(self) -> int:
        return hash(self._inner)

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self._inner == other._inner)  # type: ignore[attr-defined]
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self._inner < other._inner)  # type: ignore[attr-defined]
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self._inner <= other._inner)  # type: ignore[attr-defined]
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self._inner > other._inner)  # type: ignore[attr-defined]
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self._inner >= other._inner)  # type: ignore[attr-defined]
        return NotImplemented


class Address(_View):
    """An IPv4Address or IPv6Address: `str()`, `int()`, format specs, `+`/`-` with an int."""

    __slots__ = ()
    _attributes = ADDRESS_ATTRIBUTES

    def __int__(self) -> int:
        return int(self._inner)

    def __format__(self, spec: str) -> str:
        if type(spec) is not str or len(spec) > FORMAT_SPEC_LIMIT_CHARS:
            raise ValueError("invalid format spec for an ip address")
        return format(self._inner, spec)

    def __add__(self, other: object) -> Address:
        if type(other) is not int:
            return NotImplemented
        return Address(self._inner + other)

    def __sub__(self, other: object) -> Address:
        if type(other) is not int:
            return NotImplemented
        return Address(self._inner - other)


class Interface(_View):
    """An address with its network (`ip_interface('10.1.2.3/8')`): `.ip`, `.network`."""

    __slots__ = ()
    _attributes = INTERFACE_ATTRIBUTES

    def __int__(self) -> int:
        return int(self._inner)


def _network_arg(value: Any, what: str) -> Any:
    if type(value) is not Network:
        raise TypeError(f"{what} must be an ip_network(...), not {type(value).__name__[:64]}")
    return value._inner


def _count_check(count: int, what: str) -> None:
    if count > MAX_ITERATED_ADDRESSES:
        raise ValueError(f"{what} would yield {count} items, over the {MAX_ITERATED_ADDRESSES} "
                         "an action may iterate; test membership with `in` instead")


def _lazy(items: Iterator[Any]) -> GuardedIterator:
    def wrapped() -> Iterator[Any]:
        for item in items:
            yield _wrap(item)
    return GuardedIterator(wrapped(), 1)


def _optional_int(value: Any, what: str) -> int | None:
    if value is not None and type(value) is not int:
        raise TypeError(f"{what} must be an int or None, not {type(value).__name__[:64]}")
    return value  # type: ignore[no-any-return]


class Network(_View):
    """An IPv4Network or IPv6Network: `addr in net`, indexing, sub- and supernets."""

    __slots__ = ()
    _attributes = NETWORK_ATTRIBUTES

    def __contains__(self, item: object) -> bool:
        if type(item) is Address:
            return item._inner in self._inner
        if type(item) is Interface:
            return item._inner.ip in self._inner
        return False

    def __getitem__(self, index: object) -> Address:
        if type(index) is not int:
            raise TypeError(f"network indices must be int, not {type(index).__name__[:64]}")
        return Address(self._inner[index])

    def __iter__(self) -> GuardedIterator:
        _count_check(self._inner.num_addresses, "iterating this network")
        return _lazy(iter(self._inner))

    def hosts(self) -> GuardedIterator:
        _count_check(self._inner.num_addresses, "hosts()")
        return _lazy(self._inner.hosts())

    def _new_prefix(self, prefixlen_diff: Any, new_prefix: Any) -> tuple[int, int | None]:
        if type(prefixlen_diff) is not int:
            raise TypeError("prefixlen_diff must be an int")
        return prefixlen_diff, _optional_int(new_prefix, "new_prefix")

    def subnets(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> GuardedIterator:
        diff, prefix = self._new_prefix(prefixlen_diff, new_prefix)
        bits = diff if prefix is None else prefix - self._inner.prefixlen
        if bits > MAX_SUBNET_BITS:
            raise ValueError(f"subnets() would yield 2**{bits} networks, over the "
                             f"2**{MAX_SUBNET_BITS} an action may iterate")
        return _lazy(self._inner.subnets(diff, prefix))

    def supernet(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> Network:
        diff, prefix = self._new_prefix(prefixlen_diff, new_prefix)
        return Network(self._inner.supernet(diff, prefix))

    def overlaps(self, other: Network) -> bool:
        return bool(self._inner.overlaps(_network_arg(other, "other")))

    def subnet_of(self, other: Network) -> bool:
        return bool(self._inner.subnet_of(_network_arg(other, "other")))

    def supernet_of(self, other: Network) -> bool:
        return bool(self._inner.supernet_of(_network_arg(other, "other")))

    def compare_networks(self, other: Network) -> int:
        return int(self._inner.compare_networks(_network_arg(other, "other")))

    def address_exclude(self, other: Network) -> Iterator[Network]:
        """At most one network per prefix bit (128): computed at once."""
        excluded = [Network(n) for n in self._inner.address_exclude(_network_arg(other, "other"))]
        return iter(excluded)


def _address_arg(value: Any, what: str) -> Any:
    """A plain str (bounded), int, packed bytes or an address wrapper: nothing of the guest's."""
    kind = type(value)
    if kind is Address:
        return value._inner
    if kind is str:
        if len(value) > TEXT_LIMIT_CHARS:
            raise ValueError(f"{what} is {len(value)} characters, over {TEXT_LIMIT_CHARS}")
        return value
    if kind is int:
        if not 0 <= value < 2**128:  # the stdlib would format a huge int into its message
            raise ValueError(f"{what} as an int must be from 0 to 2**128 - 1")
        return value
    if kind is bytes:
        if len(value) not in (4, 16):
            raise ValueError(f"{what} bytes must be 4 (IPv4) or 16 (IPv6) long")
        return value
    raise TypeError(f"{what} must be a str, int, bytes or ip_address(...), not {kind.__name__[:64]}")


def _network_like_arg(value: Any, what: str) -> Any:
    if type(value) in (tuple, list):
        if len(value) != 2:
            raise ValueError(f"{what} as a pair must be (address, prefix)")
        address, prefix = value
        if type(prefix) is str:
            if len(prefix) > TEXT_LIMIT_CHARS:
                raise ValueError(f"{what} prefix is over {TEXT_LIMIT_CHARS} characters")
        elif type(prefix) is not int:
            raise TypeError(f"{what} prefix must be an int or a str")
        return (_address_arg(address, what), prefix)
    return _address_arg(value, what)


def ip_address(address: Any) -> Address:
    return Address(ipaddress.ip_address(_address_arg(address, "address")))


def ip_network(address: Any, strict: bool = True) -> Network:
    if type(strict) is not bool:
        raise TypeError("strict must be True or False")
    return Network(ipaddress.ip_network(_network_like_arg(address, "address"), strict))


def ip_interface(address: Any) -> Interface:
    return Interface(ipaddress.ip_interface(_network_like_arg(address, "address")))


def _collapsible(value: Any) -> Any:
    if type(value) in (Address, Network):
        return value._inner
    raise TypeError(f"collapse_addresses takes ip_address/ip_network objects, not "
                    f"{type(value).__name__[:64]}")


def collapse_addresses(addresses: Any) -> Iterator[Network]:
    """The smallest list of networks covering `addresses` (at most 10,000 inputs)."""
    inner: list[Any] = []
    for item in addresses:
        if len(inner) >= MAX_COLLAPSED_INPUTS:
            raise ValueError(f"collapse_addresses takes at most {MAX_COLLAPSED_INPUTS} items")
        inner.append(_collapsible(item))
    return iter([Network(n) for n in ipaddress.collapse_addresses(inner)])


def summarize_address_range(first: Any, last: Any) -> Iterator[Network]:
    """The networks spanning first..last (at most a few hundred): computed at once."""
    if type(first) is not Address or type(last) is not Address:
        raise TypeError("summarize_address_range takes two ip_address(...) objects")
    return iter([Network(n) for n in ipaddress.summarize_address_range(first._inner, last._inner)])


MEMBERS: dict[str, Any] = {
    "ip_address": ip_address, "ip_network": ip_network, "ip_interface": ip_interface,
    "collapse_addresses": collapse_addresses, "summarize_address_range": summarize_address_range,
    "AddressValueError": AddressValueError, "NetmaskValueError": NetmaskValueError,
}


def forget_state() -> None:
    """Empty ipaddress's process-wide caches: netmasks keyed by the action's own prefix
    strings ('024', '0024', ...), and lru_caches holding the action's address objects."""
    ipaddress._BaseV4._netmask_cache.clear()  # type: ignore[attr-defined]
    ipaddress._BaseV6._netmask_cache.clear()  # type: ignore[attr-defined]
    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
                ipaddress.IPv6Network):
        for raw in vars(cls).values():
            getter = raw.fget if isinstance(raw, property) else raw
            clear = getattr(getter, "cache_clear", None)
            if clear is not None:
                clear()
