"""What allowed modules hand back: public attributes lead to data, never to internals."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

UNDERSCORE = "is an invalid attribute name because it starts with \"_\""

CASES = [
    # Public attributes that exist are plain data or more allowed objects.
    (("import re\nm = re.match('(?P<a>x)', 'x')\nprint(m.re.pattern, m.string, m.regs, "
     "m.re.groupindex['a'])"), "ok", None, "(?P<a>x) x ((0, 1), (0, 1)) 1\n"),
    ("import re\nprint(re.compile('a').scanner('aa').match().span())", "ok", None, "(0, 1)\n"),
    ("import re\ng = re.compile('(?P<a>x)').groupindex\ng['b'] = 2", "error", "TypeError",
     "cannot modify a mappingproxy in an action"),
    (("import datetime\nd = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)\n"
     "print(d.tzinfo, d.fold, d.min.year)"), "ok", None, "UTC 0 1\n"),
    ("import uuid\nprint(uuid.UUID(int=1).is_safe.name)", "ok", None, "unknown\n"),
    ("from urllib.parse import urlparse\nr = urlparse('http://h/p')\nx = r._replace",
     "compile", None, '"_replace" ' + UNDERSCORE),
    ("import functools\np = functools.partial(getattr, 1)\nprint(p.args)\np('__class__')",
     "error", "AttributeError", '"__class__" ' + UNDERSCORE),
    ("import functools\nprint(functools.cmp_to_key(lambda a, b: 0)(5).obj)", "ok", None, "5\n"),
    (("import collections\nd = collections.defaultdict(list)\nd.default_factory = lambda: 7\n"
     "print(d['abc'])"), "ok", None, "7\n"),
    # Exception payloads: classes at most, and the class graph stays closed.
    (("import decimal\ntry:\n    decimal.Decimal('x')\nexcept decimal.InvalidOperation as e:\n"
     "    e.args[0][0].mro()"), "error", "AttributeError", '"mro" is a restricted name in actions'),
    ("try:\n    (1).nope\nexcept AttributeError as e:\n    print(e.name)", "ok", None, "nope\n"),
    ("try:\n    nope\nexcept NameError as e:\n    print(e.name)", "ok", None, "nope\n"),
    ("try:\n    from json import nope\nexcept ImportError as e:\n    print(e.name, e.path)",
     "ok", None, "None None\n"),
    ("try:\n    1 / 0\nexcept Exception as e:\n    print(e.with_traceback(None) is e)",
     "ok", None, "True\n"),
    # Generic aliases proxy to their origin: the same guards apply, dunders stay closed.
    ("a = list[int]\nx = getattr(a, '__origin__')", "error", "AttributeError",
     '"__origin__" ' + UNDERSCORE),
    ("x = getattr(list[int], 'mro')", "error", "AttributeError", '"mro" is a restricted name'),
    # Unbound methods check their receiver: no write to the read-only event through them.
    ("dict.update(event, {'a': 1})", "error", "TypeError",
     "descriptor 'update' for 'dict' objects doesn't apply to a 'EventView' object"),
    ("dict.clear(event.user)", "error", "TypeError",
     "descriptor 'clear' for 'dict' objects doesn't apply to a 'EventMapView' object"),
    # Python-level methods of library classes cannot be taken unbound at all (Counter.copy(int)
    # returned the real `type`).
    ("import collections\ncollections.Counter.update(event.user, ['x'])", "error",
     "AttributeError", "Counter.update cannot be taken from the class in actions"),
    ("list.append(event.user.keys(), 1)", "error", "TypeError",
     "descriptor 'append' for 'list' objects doesn't apply to a 'tuple' object"),
    # Module views: the members map behind a view has no public name.
    ("import json\nx = getattr(json, '_ModuleView__members')", "error", "AttributeError",
     '"_ModuleView__members" ' + UNDERSCORE),
    # Secrets are neither iterable nor convertible.
    ("print(list(event.secrets))", "error", "KeyError", "0"),
    ("import json\njson.dumps(event.secrets)", "error", "TypeError",
     "Object of type SecretsView is not JSON serializable"),
    # Codecs: only text encodings by name, only registered error handlers.
    ("print('x'.encode('rot13'))", "error", "LookupError", "'rot13' is not a text encoding"),
    ("print(b'\\xff'.decode('utf-8', 'backslashreplace'), 'abc'.translate(str.maketrans('a', 'b')))",
     "ok", None, "\\xff bbc\n"),
    ("b'\\xff'.decode('utf-8', 'nope')", "error", "LookupError", "unknown error handler name 'nope'"),
    ("sorted([2, 1], key=lambda x: {}[x])", "error", "KeyError", "2"),
    # C code of allowed modules imports `time` / `_strptime` through the action's __import__.
    (("import datetime\nd = datetime.datetime.strptime('2020-03-04', '%Y-%m-%d')\n"
     "print(d.strftime('%d/%m/%Y'), datetime.date(2020, 1, 6).strftime('%A'))"), "ok", None,
     "04/03/2020 Monday\n"),
    ("import time", "error", "ImportError", "import of 'time' is not allowed"),
    ("from time import sleep", "error", "ImportError", "cannot import name 'sleep'"),
    ("from _strptime import TimeRE", "error", "ImportError", "cannot import name 'TimeRE'"),
    ("from _strptime import _strptime_datetime as f", "compile", None,
     '"_strptime_datetime" is an invalid variable name'),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_library_results_stay_contained(body: str, status: str, error_type: str | None,
                                        fragment: str) -> None:
    expect(body, status, error_type, fragment)
