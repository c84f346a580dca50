"""Nothing of a run outlives it: library caches hold no guest object once the run is over.

The process-wide caches of allowed modules (re's compiled patterns, urlsplit's lru_cache,
_strptime's regexes) key on their arguments. A guest object there would pin memory in every
later run of the child and carry one run's data (event, secrets) into the next.
"""
from __future__ import annotations

import gc
import urllib.parse

import pytest

from sandbox.guards import TenantClass
from tests.sandbox.attacks.runner import assert_healthy, run_body

BOX = "class Stash:\n    pass\nbox = Stash()\nbox.kept = [event.user.email] * 1000\n"


def _guest_objects_alive() -> list[object]:
    gc.collect()
    return [o for o in gc.get_objects()
            if (isinstance(o, TenantClass) and o.__name__ == "Stash")
            or (isinstance(type(o), TenantClass) and type(o).__name__ == "Stash")]


# (snippet, status, logs)
CASES = [
    (BOX + "from urllib.parse import urlsplit\nprint(urlsplit('http://h/a#f', '', box).fragment)",
     "ok", "f\n"),
    (BOX + "from urllib.parse import urlparse\nprint(urlparse('http://h/p', 'https', box).path)",
     "ok", "/p\n"),
    (BOX + "from urllib.parse import urljoin\nprint(urljoin('http://h/a/', 'b', box))",
     "ok", "http://h/a/b\n"),
    (BOX + "import re\nprint(re.compile('x', box))", "error", ""),
    # A str subclass carrying attributes would be a re / urlsplit / strptime cache key.
    ("class Stash(str):\n    pass\nimport re\nre.compile(Stash('x'))", "error", ""),
    # A cycle through a suspended generator is ordinary garbage once the globals are cleared.
    (BOX + "def g():\n    yield box\nit = g()\nnext(it)\nbox.it = it\nbox.me = box", "ok", ""),
]


@pytest.mark.parametrize(("body", "status", "logs"), CASES)
def test_no_guest_object_survives_the_run(body: str, status: str, logs: str) -> None:
    before = len(_guest_objects_alive())
    result = run_body(body)
    assert (result.status, result.logs) == (status, logs), result
    assert len(_guest_objects_alive()) == before == 0
    assert_healthy()


def test_urlsplit_cache_holds_only_plain_values() -> None:
    run_body(BOX + "from urllib.parse import urlsplit\nurlsplit('http://cache-probe/', '', box)")
    gc.collect()
    referrers = [r for r in gc.get_referrers(urllib.parse.urlsplit) if isinstance(r, list)]
    assert _guest_objects_alive() == []
    assert all(not isinstance(type(item), TenantClass) for r in referrers for item in r)
