"""The import allow-list: listed modules work, everything else is refused, internals unreachable."""
from __future__ import annotations

import pytest

from sandbox.imports import ALLOWED_MODULES, MODULE_MEMBERS, ModuleView, import_hook
from tests.sandbox.attacks.runner import run_body

ALLOWED_LIST = ("base64, collections, datetime, decimal, functools, hashlib, hmac, ipaddress, "
                "itertools, json, math, random, re, string, urllib.parse, uuid")

TYPICAL = [
    ("import json\nprint(json.dumps(json.loads('{\"a\": [1, 2]}'), sort_keys=True))",
     '{"a": [1, 2]}'),
    ("import re\nprint(re.sub(r'(\\d+)', r'<\\1>', 'a1b22', flags=re.I), re.M == re.MULTILINE)",
     "a<1>b<22> True"),
    (("from datetime import datetime, timedelta, timezone\n"
     "print(datetime(2024, 1, 2, tzinfo=timezone.utc) + timedelta(days=1))"),
     "2024-01-03 00:00:00+00:00"),
    ("import math\nprint(math.floor(math.pi), math.isqrt(17), math.inf > 1)", "3 4 True"),
    ("import hashlib\nprint(hashlib.sha256(b'abc').hexdigest()[:16])", "ba7816bf8f01cfea"),
    (("import hmac, hashlib\nprint(hmac.new(b'k', b'm', hashlib.sha256).hexdigest()[:12], "
     "hmac.compare_digest('a', 'a'))"), "b60090e30522 True"),
    (("import base64\nprint(base64.urlsafe_b64encode(b'\\xff\\xfe').decode(), "
     "base64.b64decode('aGk='))"), "__4= b'hi'"),
    (("import uuid\nprint(uuid.uuid5(uuid.NAMESPACE_DNS, 'example.com'), "
     "len(str(uuid.uuid4())))"), "cfbff0d1-9375-5685-968c-48ce8b15ae17 36"),
    (("import urllib.parse\nprint(urllib.parse.urlencode({'q': 'a b'}), "
     "urllib.parse.urlparse('https://h/p?x=1').netloc)"), "q=a+b h"),
    ("from urllib.parse import parse_qs, quote\nprint(parse_qs('a=1&a=2'), quote('/ x'))",
     "{'a': ['1', '2']} /%20x"),
    ("import itertools\nprint(list(itertools.islice(itertools.count(5), 3)))", "[5, 6, 7]"),
    ("import functools\nprint(functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]))", "24"),
    (("import collections\nc = collections.Counter('abca')\nd = collections.defaultdict(list)\n"
     "d['k'].append(1)\nprint(c['a'], dict(d), collections.deque([1, 2], maxlen=1))"),
     "2 {'k': [1]} deque([2], maxlen=1)"),
    (("from decimal import Decimal, ROUND_HALF_UP\n"
     "print(Decimal('1.005').quantize(Decimal('0.01'), rounding=ROUND_HALF_UP))"), "1.01"),
    ("import random\nx = random.randint(1, 6)\nprint(1 <= x <= 6, len(random.sample(range(9), 3)))",
     "True 3"),
    ("import string\nprint(string.digits, string.capwords('hello world'))",
     "0123456789 Hello World"),
    (("import ipaddress\nnet = ipaddress.ip_network('10.0.0.0/8')\n"
      "print(ipaddress.ip_address('10.2.3.4') in net, ipaddress.ip_address('::1').is_loopback)"),
     "True True"),
]


@pytest.mark.parametrize(("body", "logs"), TYPICAL)
def test_allowed_modules_work(body: str, logs: str) -> None:
    result = run_body(body)
    assert (result.status, result.logs) == ("ok", logs + "\n"), result


REFUSED = ["os", "sys", "subprocess", "socket", "importlib", "ctypes", "io", "pathlib",
           "pickle", "marshal", "gc", "inspect", "threading", "signal", "time", "json.decoder",
           "urllib.request", "os.path", "encodings", "sandbox", "RestrictedPython"]


@pytest.mark.parametrize("name", REFUSED)
def test_other_modules_are_refused(name: str) -> None:
    result = run_body(f"import {name}")
    assert (result.status, result.error_type, result.message) == (
        "error", "ImportError", f"import of {name!r} is not allowed; allowed modules: "
        + ALLOWED_LIST)


@pytest.mark.parametrize(("body", "error_type", "message"), [
    ("import json\nx = json.codecs", "AttributeError",
     "module 'json' has no attribute 'codecs' available to actions"),
    ("import re\nx = re.enum", "AttributeError",
     "module 're' has no attribute 'enum' available to actions"),
    ("import re\nx = re.sre_compile", "AttributeError",
     "module 're' has no attribute 'sre_compile' available to actions"),
    ("import decimal\nx = decimal.getcontext", "AttributeError",
     "module 'decimal' has no attribute 'getcontext' available to actions"),
    ("import functools\nx = functools.lru_cache", "AttributeError",
     "module 'functools' has no attribute 'lru_cache' available to actions"),
    ("import collections\nx = collections.namedtuple", "AttributeError",
     "module 'collections' has no attribute 'namedtuple' available to actions"),
    ("import uuid\nx = uuid.uuid1", "AttributeError",
     "module 'uuid' has no attribute 'uuid1' available to actions"),
    # With no __name__ on the view, CPython cannot fall back to sys.modules['json.decoder'].
    ("from json import decoder", "ImportError",
     "cannot import name 'decoder' from '<unknown module name>' (unknown location)"),
    ("from json import codecs", "ImportError",
     "cannot import name 'codecs' from '<unknown module name>' (unknown location)"),
    ("from urllib import request", "ImportError",
     "cannot import name 'request' from '<unknown module name>' (unknown location)"),
    ("from string import Formatter", "ImportError",
     "cannot import name 'Formatter' from '<unknown module name>' (unknown location)"),
    ("import json\nx = getattr(json, '__dict__')", "AttributeError",
     '"__dict__" is an invalid attribute name because it starts with "_"'),
    ("from . import json", "ImportError", "relative imports are not allowed in actions"),
])
def test_module_internals_are_unreachable(body: str, error_type: str, message: str) -> None:
    result = run_body(body)
    assert (result.status, result.error_type, result.message) == ("error", error_type, message)


def test_views_expose_exactly_their_members() -> None:
    hook = import_hook()
    for name in MODULE_MEMBERS:
        view = hook(name, fromlist=("x",))
        assert isinstance(view, ModuleView)
        assert dir(view) == sorted(MODULE_MEMBERS[name]), name
    assert ALLOWED_MODULES == frozenset(MODULE_MEMBERS) | {"urllib"}
    assert dir(hook("urllib.parse")) == ["parse"]


def test_views_are_read_only_even_outside_the_guards() -> None:
    view = import_hook()("json")
    with pytest.raises(AttributeError, match="read-only"):
        view.dumps = None  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        view.__name__  # noqa: B018


def test_each_hook_has_its_own_random() -> None:
    first, second = import_hook()("random"), import_hook()("random")
    assert first.random is not second.random  # type: ignore[attr-defined]
    assert [first.getrandbits(64) for _ in range(4)] != [  # type: ignore[attr-defined]
        second.getrandbits(64) for _ in range(4)]  # type: ignore[attr-defined]
