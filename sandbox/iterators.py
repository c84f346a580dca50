"""Lazy iterators for actions (map, filter, zip, enumerate, itertools) that refuse re-entrant use and
deep nesting: the two shapes through which plain code reaches CPython's iterator bugs.

An itertools object that calls back into the action (a key, a predicate, a generator it
consumes) while it is half-way through its own step can be advanced again from inside that
callback; CPython has had several use-after-free bugs of exactly that shape (gh-142732 for
zip_longest). Here the action only ever holds a wrapper, and a wrapper advanced while it is
already advancing raises. Chains of ~10**5 nested lazy iterators overflow the C stack when
drained; wrappers count their nesting and refuse past MAX_LAZY_DEPTH when they are built.
"""
from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

MAX_LAZY_DEPTH = 200  # real actions nest a handful; CPython's C stack gives out near 10**5
REENTRY_MESSAGE = "an iterator cannot be advanced from inside its own callback in actions"


class GuardedIterator:
    """What an action gets instead of a C-level lazy iterator. `busy` may be shared with the
    iterators a parent hands out (groupby's groups), so neither can advance inside the other."""

    __slots__ = ("_busy", "_depth", "_inner")

    def __init__(self, inner: Iterator[Any], depth: int, busy: list[bool] | None = None) -> None:
        self._inner = inner
        self._depth = depth
        self._busy = busy if busy is not None else [False]

    def __iter__(self) -> GuardedIterator:
        return self

    def __next__(self) -> Any:
        busy = self._busy
        if busy[0]:
            raise RuntimeError(REENTRY_MESSAGE)
        busy[0] = True
        try:
            return next(self._inner)
        finally:
            busy[0] = False

    def __repr__(self) -> str:
        return "<iterator (action view)>"


class _GroupBy(GuardedIterator):
    __slots__ = ()

    def __next__(self) -> Any:
        key, group = super().__next__()
        return key, GuardedIterator(group, self._depth, self._busy)


def _depth_of(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    depth = 1 + max((a._depth for a in (*args, *kwargs.values()) if isinstance(a, GuardedIterator)),
                    default=0)
    if depth > MAX_LAZY_DEPTH:
        raise RecursionError(f"lazy iterators nested deeper than {MAX_LAZY_DEPTH} levels; "
                             "build a list at some point")
    return depth


def guarded(factory: Callable[..., Any], kind: type[GuardedIterator] = GuardedIterator,
            ) -> Callable[..., Any]:
    """`factory` (map, itertools.chain, ...) returning a guarded iterator instead."""

    def make(*args: Any, **kwargs: Any) -> GuardedIterator:
        depth = _depth_of(args, kwargs)
        return kind(factory(*args, **kwargs), depth)

    make.__name__ = make.__qualname__ = getattr(factory, "__name__", "iterator")
    make.__doc__ = factory.__doc__
    return make


def _tee(iterable: Any, n: int = 2) -> tuple[GuardedIterator, ...]:
    depth = _depth_of((iterable,), {})
    busy = [False]  # tee's copies share one underlying iterator: one step at a time for all
    return tuple(GuardedIterator(copy, depth, busy) for copy in itertools.tee(iterable, n))


BUILTINS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {name: guarded(getattr(builtins, name)) for name in ("map", "filter", "zip", "enumerate")})


def itertools_members(names: frozenset[str]) -> dict[str, Callable[..., Any]]:
    """The action's `itertools`: every listed factory returns guarded iterators."""
    members: dict[str, Callable[..., Any]] = {}
    for name in names:
        if name == "tee":
            members[name] = _tee
        elif name == "groupby":
            members[name] = guarded(itertools.groupby, _GroupBy)
        else:
            members[name] = guarded(getattr(itertools, name))
    if "chain" in members:
        members["chain"].from_iterable = guarded(itertools.chain.from_iterable)  # type: ignore[attr-defined]
    return members
