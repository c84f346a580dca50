"""State left behind for the next tenant: whatever run 1 does, run 2 starts from scratch."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import assert_healthy, handler_source, run_body, run_source

PROBE = "try:\n    print(leaked)\nexcept NameError:\n    print('clean')"

# (run 1 body, run 1 status, run 2 body, run 2 logs)
CASES = [
    ("global leaked\nleaked = 1", "ok", PROBE, "clean\n"),
    ("global len\nlen = lambda x: 42", "ok", "print(len([1]))", "1\n"),
    ("import json\njson.dumps = lambda *a: 'pwned'", "error",
     "import json\nprint(json.dumps(1))", "1\n"),
    ("import json\nsetattr(json, 'loads', None)", "error",
     "import json\nprint(json.loads('2'))", "2\n"),
    ("import json\njson.dumps.cache = {}", "error",
     "import json\nprint(hasattr(json.dumps, 'cache'))", "False\n"),
    ("import collections\ncollections.Counter.most_common = None", "error",
     "import collections\nprint(collections.Counter('aab').most_common(1))", "[('a', 2)]\n"),
    ("import re\nre.compile('a+').flags = 0", "error",
     "import re\nprint(re.compile('a+').findall('caab'))", "['aa']\n"),
    ("import decimal\ndecimal.Decimal.x = 1", "error",
     "import decimal\nprint(hasattr(decimal.Decimal, 'x'))", "False\n"),
    ("import string\nstring.digits = 'x'", "error",
     "import string\nprint(string.digits)", "0123456789\n"),
    ("import random\nrandom.seed(1)", "error",
     "import random\nprint(hasattr(random, 'seed'))", "False\n"),
    ("import urllib.parse\nurllib.parse.quote = None", "error",
     "from urllib.parse import quote\nprint(quote('a b'))", "a%20b\n"),
]


@pytest.mark.parametrize(("first", "first_status", "second", "second_logs"), CASES)
def test_second_run_sees_nothing_of_the_first(first: str, first_status: str, second: str,
                                              second_logs: str) -> None:
    assert run_body(first).status == first_status
    result = run_body(second)
    assert (result.status, result.logs) == ("ok", second_logs)
    assert_healthy()


# Module-level state is rebuilt from the cached code object on every run.
MODULE_CASES = [
    "def remember(acc=[]):\n    acc.append(1)\n    return len(acc)\n"
    + handler_source("print(remember())"),
    "class Counter:\n    count = 0\n"
    + handler_source("Counter.count = Counter.count + 1\nprint(Counter.count)"),
    "seen = {}\n" + handler_source("seen['n'] = seen.get('n', 0) + 1\nprint(seen['n'])"),
]


@pytest.mark.parametrize("source", MODULE_CASES)
def test_module_state_is_fresh_each_run(source: str) -> None:
    logs = [run_source(source).logs for _ in range(3)]
    assert logs == ["1\n", "1\n", "1\n"]


def test_random_is_independent_between_runs() -> None:
    body = "import random\nprint([random.getrandbits(64) for _ in range(4)])"
    first, second = run_body(body).logs, run_body(body).logs
    assert first != second  # 256 random bits each: equal only if the generator were shared

