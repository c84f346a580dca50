"""The import allow-list: curated, read-only views of a few standard modules, never the modules."""
from __future__ import annotations

import _strptime  # for datetime.strptime (see INTERPRETER_IMPORTS)
import base64
import codecs
import collections
import datetime
import decimal
import encodings
import functools
import hashlib
import heapq  # Counter.most_common imports it lazily: a child cannot import after containment
import hmac
import importlib
import ipaddress
import itertools
import json
import math
import random
import re
import string
import unicodedata  # str normalisation and the idna codec import it lazily
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sandbox import ipaddress_view
from sandbox.guards import guarded_prod
from sandbox.iterators import itertools_members

# Real modules reach sys, os and the real builtins through plain public attributes
# (json.codecs.sys, re.enum, ...) and hold shared mutable state, so an import hands out a
# ModuleView exposing only these names. Left out on purpose: decimal.getcontext/localcontext
# and the shared contexts (process-wide state), functools.lru_cache/wraps (shared caches,
# setattr on arguments), collections.namedtuple (exec), string.Formatter/Template (attribute
# reads), uuid.uuid1/getnode (MAC lookup may spawn a process), hashlib.new.
MODULE_MEMBERS: Mapping[str, frozenset[str]] = MappingProxyType({
    "json": frozenset({"dumps", "loads", "JSONDecodeError"}),
    "re": frozenset({
        "compile", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn",
        "split", "escape", "error", "IGNORECASE", "I", "MULTILINE", "M", "DOTALL", "S",
        "VERBOSE", "X", "ASCII", "A",
    }),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone",
                           "MINYEAR", "MAXYEAR"}),
    "math": frozenset({
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb",
        "copysign", "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp", "exp2", "expm1",
        "fabs", "factorial", "floor", "fmod", "frexp", "fsum", "gamma", "gcd", "hypot", "inf",
        "isclose", "isfinite", "isinf", "isnan", "isqrt", "lcm", "ldexp", "lgamma", "log",
        "log10", "log1p", "log2", "modf", "nan", "nextafter", "perm", "pi", "pow", "prod",
        "radians", "remainder", "sin", "sinh", "sqrt", "tan", "tanh", "tau", "trunc", "ulp",
    }),
    "hashlib": frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b",
                          "blake2s", "sha3_224", "sha3_256", "sha3_384", "sha3_512"}),
    "hmac": frozenset({"new", "compare_digest", "digest"}),
    "base64": frozenset({
        "b64encode", "b64decode", "standard_b64encode", "standard_b64decode",
        "urlsafe_b64encode", "urlsafe_b64decode", "b32encode", "b32decode", "b16encode",
        "b16decode", "b85encode", "b85decode",
    }),
    "uuid": frozenset({"uuid3", "uuid4", "uuid5", "UUID", "NAMESPACE_DNS", "NAMESPACE_URL",
                       "NAMESPACE_OID", "NAMESPACE_X500"}),
    "urllib.parse": frozenset({
        "urlencode", "quote", "unquote", "quote_plus", "unquote_plus", "urlparse", "urlsplit",
        "urlunparse", "urlunsplit", "parse_qs", "parse_qsl", "urljoin",
    }),
    "itertools": frozenset({
        "accumulate", "chain", "combinations", "combinations_with_replacement", "compress",
        "count", "cycle", "dropwhile", "filterfalse", "groupby", "islice", "pairwise",
        "permutations", "product", "repeat", "starmap", "takewhile", "tee", "zip_longest",
    }),
    "functools": frozenset({"reduce", "partial", "cmp_to_key"}),
    "collections": frozenset({"OrderedDict", "defaultdict", "Counter", "deque"}),
    "decimal": frozenset({
        "Decimal", "InvalidOperation", "DivisionByZero", "DecimalException", "ROUND_CEILING",
        "ROUND_DOWN", "ROUND_FLOOR", "ROUND_HALF_DOWN", "ROUND_HALF_EVEN", "ROUND_HALF_UP",
        "ROUND_UP", "ROUND_05UP",
    }),
    "string": frozenset({
        "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
        "octdigits", "punctuation", "printable", "whitespace", "capwords",
    }),
    # Wrappers only (sandbox/ipaddress_view.py): never the stdlib's classes or generators.
    "ipaddress": frozenset(ipaddress_view.MEMBERS),
    # Bound methods of a fresh random.Random per run: no shared seed or state between tenants.
    "random": frozenset({"random", "randint", "choice", "choices", "shuffle", "sample",
                         "uniform", "randrange", "getrandbits"}),
})

# Packages importable only for their listed submodule (`import urllib.parse`).
PACKAGES: Mapping[str, frozenset[str]] = MappingProxyType({"urllib": frozenset({"parse"})})

ALLOWED_MODULES = frozenset(MODULE_MEMBERS) | frozenset(PACKAGES)

# Imported by allowed modules' C code through the action's own `__import__` (PyImport_Import:
# datetime's strftime imports `time`, strptime `_strptime`), which then takes the real module
# from sys.modules. Such a call passes a fromlist ([]) and gets an empty view; a plain
# `import time` in the action (fromlist None) is refused, and `from time import x` finds nothing.
INTERPRETER_IMPORTS = frozenset({"time", "_strptime"})

# Imported here so the warm template pays for them once.
_PRELOADED = (base64, collections, datetime, decimal, functools, hashlib, heapq, hmac, ipaddress,
              itertools, json, math, re, string, unicodedata, urllib.parse, uuid, _strptime)
# Codecs an action may legitimately name: looked up (imported) now, since a contained child
# cannot import `encodings.<name>` later ("unknown encoding" would be a lie).
PRELOADED_CODECS = ("utf-8", "utf-16", "utf-32", "ascii", "latin-1", "cp1252", "idna",
                    "punycode", "utf-7", "unicode_escape", "raw_unicode_escape", "hex", "base64")
for _codec in PRELOADED_CODECS:
    codecs.lookup(_codec)


def forget_run_state() -> None:
    """Empty the process-wide caches that allowed functions fill from their arguments.

    Called after every run: urlsplit's lru_cache (up to 128 URLs of any size), quote's per-`safe`
    quoters, re's compiled patterns, _strptime's regexes, ipaddress's netmask and lru caches,
    and the codec search's memory of
    names that failed (encodings caches every unknown name forever: 550 long ones were 55 MB).
    Otherwise one run's strings pin memory in, and are visible to, the same child's next run.
    """
    urllib.parse.urlsplit.cache_clear()  # type: ignore[attr-defined]
    urllib.parse._byte_quoter_factory.cache_clear()  # type: ignore[attr-defined]
    re.purge()
    _strptime._regex_cache.clear()
    ipaddress_view.forget_state()
    cache = encodings._cache  # type: ignore[attr-defined]
    for name in [name for name, entry in cache.items() if entry is None]:
        del cache[name]


class ModuleView:
    """A read-only module stand-in: listed members only; no `__name__`, `__dict__` or writes.

    Having no `__name__` also stops `from json import decoder` falling back to sys.modules.
    """

    __slots__ = ("_ModuleView__label", "_ModuleView__members")

    def __init__(self, label: str, members: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_ModuleView__label", label)
        object.__setattr__(self, "_ModuleView__members", MappingProxyType(dict(members)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__members[name]
        except KeyError:
            raise AttributeError(f"module {self.__label!r} has no attribute {name!r} "
                                 "available to actions") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"module {self.__label!r} is read-only in actions")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"module {self.__label!r} is read-only in actions")

    def __dir__(self) -> list[str]:
        return sorted(self.__members)

    def __repr__(self) -> str:
        return f"<module {self.__label!r} (action view)>"


# urlsplit keeps its arguments as keys of a process-wide lru_cache (urlparse and urljoin call
# it), and allow_fragments may be any object: an action's own object, with all it holds, would
# outlive the run. These pass a plain bool instead.
# The URL arguments must be exact str: an object with a decode() method was kept as a cache key.
def _text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise TypeError(f"{what} must be a str in actions, not {type(value).__name__[:64]}")
    return value


def urlsplit(url: Any, scheme: Any = "", allow_fragments: Any = True) -> Any:
    return urllib.parse.urlsplit(_text(url, "url"), _text(scheme, "scheme"), bool(allow_fragments))


def urlparse(url: Any, scheme: Any = "", allow_fragments: Any = True) -> Any:
    return urllib.parse.urlparse(_text(url, "url"), _text(scheme, "scheme"), bool(allow_fragments))


def urljoin(base: Any, url: Any, allow_fragments: Any = True) -> Any:
    return urllib.parse.urljoin(_text(base, "base"), _text(url, "url"), bool(allow_fragments))


# re's flags as plain ints: `re.I | (i << 12)` on the RegexFlag enum made a pseudo-member per
# value, kept in the enum's member map for good (200,000 of them pinned memory across runs).
_RE_FLAGS = {name: int(getattr(re, name)) for name in
             ("IGNORECASE", "I", "MULTILINE", "M", "DOTALL", "S", "VERBOSE", "X", "ASCII", "A")}


STAND_INS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "urllib.parse": MappingProxyType(
        {"urlsplit": urlsplit, "urlparse": urlparse, "urljoin": urljoin}),
    "re": MappingProxyType(_RE_FLAGS),
    "math": MappingProxyType({"prod": guarded_prod}),
    "ipaddress": MappingProxyType(ipaddress_view.MEMBERS),
    # Guarded against re-entrant use and deep nesting (sandbox/iterators.py).
    "itertools": MappingProxyType(itertools_members(MODULE_MEMBERS["itertools"])),
})


def _static_view(name: str) -> ModuleView:
    module = importlib.import_module(name)
    members = {m: getattr(module, m) for m in MODULE_MEMBERS[name] if hasattr(module, m)}
    members.update(STAND_INS.get(name, {}))
    return ModuleView(name, members)


def _static_views() -> Mapping[str, ModuleView]:
    views = {name: _static_view(name) for name in MODULE_MEMBERS if name != "random"}
    views["urllib"] = ModuleView("urllib", {"parse": views["urllib.parse"]})
    views.update({name: ModuleView(name, {}) for name in INTERPRETER_IMPORTS})
    return MappingProxyType(views)


# Built once: the members are functions, classes and immutable constants, and writes to them
# are refused by the write guard, so one view can serve every run.
_STATIC_VIEWS = _static_views()


def random_view() -> ModuleView:
    """A `random` seeded from os.urandom, new for each run."""
    rng = random.Random()
    return ModuleView("random", {name: getattr(rng, name) for name in MODULE_MEMBERS["random"]})


def _refusal(name: str) -> ImportError:
    allowed = ", ".join(sorted(ALLOWED_MODULES - frozenset(PACKAGES)))
    return ImportError(f"import of {name!r} is not allowed; allowed modules: {allowed}")


def import_hook() -> Callable[..., Any]:
    """A fresh `__import__` for one run (it owns that run's `random`)."""
    own_random: list[ModuleView] = []  # made on first `import random`: seeding costs ~20 us

    def view(name: str) -> ModuleView:
        if name != "random":
            return _STATIC_VIEWS[name]
        if not own_random:
            own_random.append(random_view())
        return own_random[0]

    def guarded_import(name: str, globals: Any = None, locals: Any = None,
                       fromlist: Any = (), level: int = 0) -> ModuleView:
        if level != 0:
            raise ImportError("relative imports are not allowed in actions")
        if type(name) is not str or not (
                name in ALLOWED_MODULES or (name in INTERPRETER_IMPORTS and fromlist is not None)):
            raise _refusal(str(name))
        if fromlist:
            return view(name)
        # `import urllib.parse` binds the top package, as Python does.
        return view(name.partition(".")[0])

    return guarded_import
