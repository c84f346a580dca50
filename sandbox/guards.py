"""The restricted globals: builtin allow-list and the hooks RestrictedPython's rewritten code calls."""
from __future__ import annotations

import builtins
import inspect
import itertools
import operator
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from decimal import Decimal
from types import FunctionType, MappingProxyType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from sandbox import iterators
from sandbox.errors import ActionMemoryError, SizeLimitError
from sandbox.fetch import Transport, fetch_builtins
from sandbox.limits import Limits

# Taken from the real builtins unchanged. Not here, on purpose: open, eval, exec, compile, input,
# breakpoint, help, globals, locals, vars, dir, type, object, super, memoryview, classmethod,
# staticmethod, property, exit, quit, aiter, anext (I/O, code creation, introspection, or
# class machinery nobody reviewed), and id (addresses are what memory-corruption exploits
# need). getattr/hasattr/setattr/delattr/pow/iter/__import__ are guarded.
SAFE_BUILTINS = frozenset({
    "None", "False", "True", "Ellipsis", "NotImplemented",
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr",
    "complex", "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash",
    "hex", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min",
    "next", "oct", "ord", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str",
    "sum", "tuple", "zip",
    # `class` statements need it; the metaclass is TenantClass (see below).
    "__build_class__",
})

SAFE_EXCEPTIONS = frozenset({
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "EOFError",
    "Exception", "GeneratorExit", "ImportError", "IndexError", "KeyError", "KeyboardInterrupt",
    "LookupError", "MemoryError", "NameError", "NotImplementedError", "OSError",
    "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "SystemExit",
    "TimeoutError", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
    "UnicodeEncodeError", "UnicodeError", "ValueError", "ZeroDivisionError",
})

# Public names that still lead to frames, code or the class graph (`__*__` is refused anyway).
DENIED_ATTRIBUTES = INSPECT_ATTRIBUTES | frozenset({
    "mro", "f_trace_lines", "f_trace_opcodes",
})

# str.format / format_map read attributes named in the format string: "{0.__class__}".
STR_FORMAT_METHODS = frozenset({"format", "format_map"})

# Objects an action may write into (item or attribute assignment), besides its own classes and
# their instances. All are created by the action itself; shared objects are never of these types.
WRITABLE_TYPES = frozenset({dict, list, set, bytearray, OrderedDict, defaultdict, Counter, deque})

# Integers beyond this many bits are refused by `**`, `*` and `<<` before computing them.
MAX_INT_BITS = 1 << 20

# Builtin classes an action's class may have in its MRO. Left out: exception types whose C code
# keeps and trusts instance fields (UnicodeError and its subclasses read .object/.start/.end
# unchecked in 3.11; OSError, SyntaxError, ImportError, AttributeError, NameError,
# StopIteration, SystemExit and the exception groups have fields of their own) and the
# BaseException-only ones. Library exception classes written in Python are allowed on top.
ALLOWED_BUILTIN_BASES = frozenset({
    object, BaseException, Exception, ArithmeticError, AssertionError, IndexError, KeyError,
    LookupError, NotImplementedError, OverflowError, RuntimeError, TypeError, ValueError,
    ZeroDivisionError,
})
_PY_TPFLAGS_HEAPTYPE = 1 << 9  # a class created by a `class` statement, not a C static type


def _allowed_base(base: Any) -> bool:
    if not isinstance(base, type):
        return False
    if isinstance(base, TenantClass):
        return True
    if not issubclass(base, BaseException):
        return False
    return all(isinstance(cls, TenantClass) or cls in ALLOWED_BUILTIN_BASES
               or (cls.__flags__ & _PY_TPFLAGS_HEAPTYPE and cls.__module__ != "builtins")
               for cls in base.__mro__)


class TenantClass(type):
    """Metaclass of every class an action defines: marks what the action may mutate.

    Bases are allow-listed: the action's own classes and plain exception classes. A subclass of str,
    int, tuple, list, ... is taken for a plain value by library code, which may keep it (with
    whatever the action hung on it) in a process-wide cache such as re's or urlsplit's, past
    the end of the run.
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **kwargs: Any) -> TenantClass:
        for base in bases:
            if not _allowed_base(base):
                raise TypeError(f"class {name} cannot derive from {base.__name__}: "
                                "an action's classes may derive only from its own classes "
                                "and plain exception classes (docs/actions.md)")
        return super().__new__(mcs, name, bases, namespace, **kwargs)


def check_attribute(obj: Any, name: str) -> None:
    """Raise AttributeError if an action may not read `obj.<name>`."""
    if type(name) is not str:
        raise TypeError("attribute name must be a str")
    if name.startswith("_"):
        raise AttributeError(f'"{name}" is an invalid attribute name because it starts with "_"')
    if name in DENIED_ATTRIBUTES:
        raise AttributeError(f'"{name}" is a restricted name in actions')
    if name in STR_FORMAT_METHODS and (
            isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str))):
        raise AttributeError(f'str.{name} is not allowed in actions: use an f-string')
    # AttributeError.obj is whatever object a library failed on, maybe one of its internals.
    if name == "obj" and isinstance(obj, BaseException):
        raise AttributeError('"obj" of an exception is a restricted name in actions')
    if isinstance(obj, type) and not isinstance(obj, TenantClass) and _python_level(obj, name):
        # `Counter.copy(int)` runs `self.__class__(self)` on any `self` and returned `type`:
        # a library class's Python-level function, taken unbound, trusts its first argument.
        raise AttributeError(f"{obj.__name__}.{name} cannot be taken from the class in actions: "
                             f"call it on an instance")


def _python_level(cls: type, name: str) -> bool:
    """Whether `cls.<name>` is a function or descriptor written in Python (not C)."""
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return False
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    if isinstance(raw, property):
        return True
    return isinstance(raw, FunctionType)


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """`_getattr_` and the `getattr` builtin: refusals raise even when a default is given."""
    check_attribute(obj, name)
    return getattr(obj, name, *default)


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def write_guard(obj: Any) -> Any:
    """`_write_`: the target of `obj.x = v`, `obj[k] = v` and `del`, if the action owns it."""
    kind = type(obj)
    if kind in WRITABLE_TYPES or isinstance(kind, TenantClass) or isinstance(obj, TenantClass):
        return obj
    raise TypeError(f"cannot modify a {kind.__name__} in an action: only its own dicts, lists, "
                    "sets and class instances")


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    check_attribute(obj, name)
    setattr(write_guard(obj), name, value)


def guarded_delattr(obj: Any, name: str) -> None:
    check_attribute(obj, name)
    delattr(write_guard(obj), name)


def guarded_iter(*args: Any) -> Any:
    """`iter(x)` only: `iter(callable, sentinel)` lets a callback re-enter the iterator that
    calls it, the shape of several CPython use-after-free bugs (gh-142732)."""
    if len(args) != 1:
        raise TypeError("iter(callable, sentinel) is not allowed in actions: use a while loop")
    return iter(args[0])


def extended_slice_value(value: Any) -> list[Any]:
    """The value of `L[a:b:step] = value`: a plain list only (see sandbox/policy.py)."""
    if type(value) is not list:
        raise TypeError("extended-slice assignment takes a list in actions: "
                        f"write L[::2] = list(...), not a {type(value).__name__[:64]}")
    return value


def guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


class SizeGuards:
    """`**`, `*` and `<<` with the result size checked first; the rlimit catches the rest."""

    def __init__(self, limits: Limits) -> None:
        self.limit_bytes = limits.memory_limit_bytes

    def pow(self, base: Any, exponent: Any, modulo: Any = None) -> Any:
        if modulo is None and type(base) in (int, bool) and type(exponent) is int \
                and exponent > 1 and abs(base) > 1:
            bits = (abs(base).bit_length() - 1) * exponent
            if bits > MAX_INT_BITS:
                raise SizeLimitError("'**'", bits, MAX_INT_BITS, "bits")
        return pow(base, exponent) if modulo is None else pow(base, exponent, modulo)

    def mul(self, left: Any, right: Any) -> Any:
        if isinstance(right, int) and isinstance(left, (str, bytes, bytearray, list, tuple)):
            self._check_repeat(left, right)
        elif isinstance(left, int) and isinstance(right, (str, bytes, bytearray, list, tuple)):
            self._check_repeat(right, left)
        elif isinstance(left, int) and isinstance(right, int):
            # Else `x = x * x` in a loop is `**` without its guard: one long C call per step.
            bits = left.bit_length() + right.bit_length()
            if bits > MAX_INT_BITS:
                raise SizeLimitError("'*'", bits, MAX_INT_BITS, "bits")
        return left * right

    def lshift(self, value: Any, shift: Any) -> Any:
        if type(value) in (int, bool) and type(shift) is int and value and shift > 0:
            bits = abs(value).bit_length() + shift
            if bits > MAX_INT_BITS:
                raise SizeLimitError("'<<'", bits, MAX_INT_BITS, "bits")
        return value << shift

    @staticmethod
    def mod(left: Any, right: Any) -> Any:
        if type(left) is bytearray:
            # bytearray's %-formatting reads its own buffer while it calls back into the
            # arguments' conversions, the shape of CPython's buffer use-after-free bugs.
            raise TypeError("bytearray % formatting is not allowed in actions: "
                            "format a str and encode it")
        return left % right

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        """`_inplacevar_`: `x op= y` for a plain name."""
        if op == "%=":
            return self.mod(left, right)
        if op == "*=":
            return self.mul(left, right)
        if op == "**=":
            return self.pow(left, right)
        if op == "<<=":
            return self.lshift(left, right)
        return _INPLACE_OPS[op](left, right)

    def _check_repeat(self, seq: Any, times: int) -> None:
        item_bytes = 8 if isinstance(seq, (list, tuple)) else 1  # a pointer per list item
        size = len(seq) * times * item_bytes
        if size > self.limit_bytes:
            raise SizeLimitError("'*'", size, self.limit_bytes)


# sum() of big ints: each addition is cheap, but a million of them is one long C call the
# polite alarm cannot interrupt.
MAX_SUM_INT_BITS = 64 * MAX_INT_BITS


def guarded_prod(iterable: Any, /, *, start: Any = 1) -> Any:
    """math.prod with the `*` guard on every step (one C call built a 64-Mbit integer)."""
    result = start
    for item in iterable:
        if type(item) not in (int, float, bool, complex) and not isinstance(item, Decimal):
            raise TypeError("math.prod takes numbers in actions, not "
                            f"{type(item).__name__[:64]} (repeat sequences with '*')")
        if type(result) is int and type(item) is int and (
                result.bit_length() + item.bit_length() > MAX_INT_BITS):
            raise SizeLimitError("math.prod", result.bit_length() + item.bit_length(),
                                 MAX_INT_BITS, "bits")
        result = result * item
    return result


def guarded_sum(iterable: Any, /, start: Any = 0) -> Any:
    """sum(), refusing integer work the alarm could not interrupt; otherwise the builtin.

    Taken in chunks: a lazy iterable (`range(10**18)`) is neither materialised nor summed in
    one uninterruptible C call.
    """
    items, bits, total = iter(iterable), 0, start
    while chunk := list(itertools.islice(items, _SUM_CHUNK)):
        bits += sum(item.bit_length() for item in chunk  # big ints only: machine-size ones
                    if type(item) is int and item.bit_length() > 64)  # are cheap to add
        if bits > MAX_SUM_INT_BITS:
            raise SizeLimitError("sum", bits, MAX_SUM_INT_BITS, "bits")
        total = sum(chunk, total)
    return total


_SUM_CHUNK = 4096


_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "@=": operator.imatmul,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


_SAFE_BUILTINS_TABLE = MappingProxyType(
    {name: getattr(builtins, name) for name in SAFE_BUILTINS | SAFE_EXCEPTIONS})


def restricted_builtins(limits: Limits, import_hook: Callable[..., Any],
                        fetch_transport: Transport | None = None) -> dict[str, Any]:
    """A fresh `__builtins__` dict for one run (a copy: the table itself is never handed out).

    `fetch` sends its requests through `fetch_transport` (the worker makes them, see
    sandbox/fetch.py); without one every fetch() raises FetchError("unavailable").
    """
    table = dict(_SAFE_BUILTINS_TABLE)
    table.update(
        getattr=guarded_getattr,
        hasattr=guarded_hasattr,
        setattr=guarded_setattr,
        delattr=guarded_delattr,
        pow=SizeGuards(limits).pow,
        iter=guarded_iter,
        sum=guarded_sum,
        MemoryError=ActionMemoryError,
        __import__=import_hook,
        **iterators.BUILTINS,
        **fetch_builtins(fetch_transport, limits),
    )
    return table


def guard_hooks(limits: Limits) -> dict[str, Any]:
    """The `_x_` names RestrictedPython's rewritten code calls, for one run's globals."""
    sizes = SizeGuards(limits)
    return {
        "__metaclass__": TenantClass,
        "_getattr_": guarded_getattr,
        "_getitem_": guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": write_guard,
        "_apply_": guarded_apply,
        "_inplacevar_": sizes.inplace,
        "_pow_": sizes.pow,
        "_mul_": sizes.mul,
        "_lshift_": sizes.lshift,
        "_mod_": sizes.mod,
        "_extended_slice_value_": extended_slice_value,
    }
