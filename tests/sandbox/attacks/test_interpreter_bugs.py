"""CPython memory-safety bugs reachable from plain code (issues 7 and 8; bench/interpreters/
has them as unrestricted Python). Each is refused before it reaches the bug, or, where the
policy cannot see it coming, crashes only its own child."""
from __future__ import annotations

import pytest

from sandbox.limits import Limits
from tests.sandbox.attacks.runner import expect, handler_source
from tests.worker.poolkit import run
from worker.pool import SandboxPool

SPECIAL = "is not allowed in an action's class: define __init__ and ordinary methods only"

REFUSED = [
    # gh-115243: __eq__ clears the deque while deque.index compares.
    ("import collections\nd = collections.deque()\nclass E:\n    def __eq__(self, other):\n"
     "        d.clear()\n        return False\nd.extend([E(), E()])\nd.index(1)",
     "compile", None, "special method __eq__ " + SPECIAL),
    # gh-142732: the callable of iter(f, sentinel) re-enters the zip_longest that calls it.
    ("import itertools\ndef f():\n    return next(z)\n"
     "z = itertools.zip_longest(iter(f, None), [1])\nlist(z)",
     "error", "TypeError", "iter(callable, sentinel) is not allowed in actions"),
    # gh-120298: list comparison with a __lt__ that clears the list.
    ("L = []\nclass C:\n    def __lt__(self, other):\n        L.clear()\n        return True\n"
     "L.extend([C(), C()])\nL < [1, 2]", "compile", None, "special method __lt__ " + SPECIAL),
    # gh-119004: OrderedDict equality with a clearing __eq__.
    ("import collections\nclass K:\n    def __eq__(self, other):\n        return True",
     "compile", None, "special method __eq__"),
    # gh-91153 / gh-142560: bytearray item assignment and index() with a mutating __index__.
    ("ba = bytearray(1)\nclass I:\n    def __index__(self):\n        ba.clear()\n        return 65\n"
     "ba[0] = I()", "compile", None, "special method __index__"),
    # gh-153578: bytearray.extend with a clearing __buffer__.
    ("class B:\n    def __buffer__(self, flags):\n        return memoryview(b'')",
     "compile", None, "special method __buffer__"),
    # gh-123378: UnicodeDecodeError.__str__ trusts .start/.end; a subclass could set them.
    ("class U(UnicodeDecodeError):\n    pass\nu = U('utf-8', b'abcdef', 0, 1, 'r')\nu.start = -8",
     "error", "TypeError", "class U cannot derive from UnicodeDecodeError"),
    # The built-in itself is not writable either.
    ("u = UnicodeDecodeError('utf-8', b'abcdef', 0, 1, 'r')\nu.start = -8",
     "error", "TypeError", "cannot modify a UnicodeDecodeError in an action"),
    # Counter.copy is `return self.__class__(self)`: called on a class it returned `type`.
    ("import collections\nT = collections.Counter.copy(int)", "error", "AttributeError",
     "Counter.copy cannot be taken from the class in actions"),
    ("import collections\nc = collections.Counter('abca')\nprint(c.copy()['a'])", "ok", None, "2\n"),
    # Lazy iterators are wrappers that refuse to be advanced from inside their own step.
    ("import itertools\ndef g():\n    yield next(z)\nz = itertools.zip_longest(g(), [1])\nlist(z)",
     "error", "RuntimeError", "an iterator cannot be advanced from inside its own callback"),
    ("import itertools\ndef key(x):\n    next(gb)\n    return x\n"
     "gb = itertools.groupby([1, 2, 3], key)\nlist(gb)",
     "error", "RuntimeError", "an iterator cannot be advanced from inside its own callback"),
    ("def f(x):\n    return next(m)\nm = map(f, [1, 2])\nlist(m)",
     "error", "RuntimeError", "an iterator cannot be advanced from inside its own callback"),
    # ~10**5 nested lazy iterators overflowed the C stack: refused when they are built.
    ("m = [1]\nfor i in range(300000):\n    m = map(abs, m)",
     "error", "RecursionError", "lazy iterators nested deeper than 200 levels"),
    ("e = [1]\nfor i in range(200000):\n    e = enumerate(e)",
     "error", "RecursionError", "lazy iterators nested deeper than 200 levels"),
    ("import itertools\nc = [1]\nfor i in range(1000):\n    c = itertools.chain(c, [i])",
     "error", "RecursionError", "lazy iterators nested deeper than 200 levels"),
    # Ordinary use is unchanged.
    ("import itertools\nprint([(k, list(g)) for k, g in itertools.groupby('aabc')],\n"
     "      list(itertools.chain.from_iterable([[1], [2]])), [list(t) for t in itertools.tee('ab')],\n"
     "      list(zip(map(abs, [-1, -2]), filter(None, [0, 3, 4]))),\n"
     "      list(itertools.islice(itertools.count(5), 2)))",
     "ok", None, "[('a', ['a', 'a']), ('b', ['b']), ('c', ['c'])] [1, 2] [['a', 'b'], ['a', 'b']]"
     " [(1, 3), (2, 4)] [5, 6]\n"),
    # gh-120384: extended-slice assignment from a generator that shrinks the list.
    ("L = list(range(10))\ndef gen():\n    L.clear()\n    yield from range(10)\nL[::-1] = gen()",
     "error", "TypeError", "extended-slice assignment takes a list in actions"),
    ("L = [0, 0]\n(a, b) = L[::2] = (x for x in 'ab')", "compile", None,
     "extended-slice assignment cannot be combined with unpacking"),
    ("L = [0, 0, 0, 0]\nL[::2] = [1, 2]\nL[1:3] = (x for x in 'ab')\nprint(L)", "ok", None,
     "[1, 'a', 'b', 0]\n"),
    # Modules allowed functions import lazily are preloaded; the common codecs work.
    ("import collections\nprint(collections.Counter('abca').most_common(1),\n"
     "      'é'.encode('unicode_escape'), 'x'.encode('idna'), 'x'.encode('utf-7'),\n"
     "      'é'.encode('cp1252'), 'ü'.encode('punycode'))", "ok", None,
     "[('a', 2)] b'\\\\xe9' b'x' b'x' b'\\xe9' b'tda'\n"),
    # A C loop over a wrapped iterator is interrupted by the polite alarm, logs kept.
    ("import itertools\nprint('counting')\nmax(itertools.count())", "timeout", "ActionTimeout",
     "time limit"),
    ("b = bytearray(b'%s')\nb % (b'x',)", "error", "TypeError",
     "bytearray % formatting is not allowed in actions"),
    ("b = bytearray(b'%s')\nb %= (b'x',)", "error", "TypeError",
     "bytearray % formatting is not allowed in actions"),
    ("print('%d-%s' % (1, 'a'), b'%d' % 2, 7 % 3)", "ok", None, "1-a b'2' 1\n"),
    # One C call building a huge integer: guarded like `*` and `**`.
    ("import math\nmath.prod([2 ** (2 ** 20 - 1)] * 64)", "memory_limit", "SizeLimitError",
     "math.prod would build a value of about"),
    ("import math\nmath.prod(['a', 10 ** 9])", "error", "TypeError",
     "math.prod takes numbers in actions, not str"),
    ("x = 2 ** (2 ** 20 - 1)\nsum([x] * 100)", "memory_limit", "SizeLimitError",
     "sum would build a value of about"),
    ("import math\nprint(math.prod([2, 3, 4]), sum([1, 2.5]), sum([[1], [2]], []),\n"
     "      sum(range(10000)), sum(x * x for x in range(5000)))", "ok", None,
     "24 3.5 [1, 2] 49995000 41654167500\n"),
    # A lazy range is summed in chunks, so the polite alarm ends it (one C call did not).
    ("sum(range(10 ** 18))", "timeout", "ActionTimeout", "time limit"),
    # Addresses are what an exploit needs to aim its reads and writes.
    ("x = id(event)", "error", "NameError", "name 'id' is not defined"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), REFUSED)
def test_interpreter_bug_vectors_are_refused(body: str, status: str, error_type: str | None,
                                             fragment: str) -> None:
    expect(body, status, error_type, fragment)


# The policy cannot see this coming: hash() of a deeply nested tuple recurses in C without a
# depth check. Run in a real child, it fails only its own action.
CONTAINED = ["t = ()\nfor i in range(300000):\n    t = (t,)\nhash(t)"]


@pytest.mark.parametrize("body", CONTAINED, ids=["nested tuple hash"])
async def test_what_reaches_the_interpreter_bug_crashes_only_its_child(body: str) -> None:
    pool = SandboxPool(spare_children=0)
    await pool.start()
    try:
        outcome = await run(pool, handler_source(body), limits=Limits(timeout_s=5))
        assert outcome.status == "error"
        assert outcome.error["class"] in ("action_error", "crashed"), outcome.error
        if outcome.error["class"] == "crashed":
            assert outcome.error["message"] == "the action's sandbox child died by signal SIGSEGV"
        honest = handler_source("api.id_token.set_custom_claim('https://a.example/ok', 1)")
        assert (await run(pool, honest)).status == "ok"
    finally:
        await pool.close()


SECRETS = {"API_KEY": "k1"}


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), [
    ("print(event.secrets.API_KEY, event.secrets.UNSET)", "ok", None, "k1 None\n"),
    ("print(hasattr(event.secrets, 'items'), hasattr(event.secrets, 'keys'))", "ok", None,
     "False False\n"),
    ("event.secrets.keys()", "error", "AttributeError",
     "event.secrets has no keys(): read each secret by its name"),
], ids=["by name", "no mapping methods", "keys"])
def test_event_secrets_answer_only_secret_names(body: str, status: str, error_type: str | None,
                                                 fragment: str) -> None:
    expect(body, status, error_type, fragment, secrets=SECRETS)
