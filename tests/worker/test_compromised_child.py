"""A child whose action escaped the language layer: it runs unrestricted Python (the test-only
escape hook) and says whatever it likes on its pipe. The worker believes none of it, stays
up, replaces that child and serves the next job."""
from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox.limits import Limits
from tests.worker.poolkit import action, pid_alive, pids, run
from tests.worker.test_watchdog import LONG_C_CALL
from worker.child import ESCAPE_MARKER
from worker.pool import SandboxPool

HONEST = action("api.id_token.set_custom_claim('https://a.example/ok', 1)")


def escaped(body: str) -> str:
    return ESCAPE_MARKER + body + "\n"


def forged_reply(outcome: dict[str, Any]) -> str:
    full = {"status": "ok", "effects": [], "logs": "", "duration_ms": 0.0, "error": None, **outcome}
    return escaped(f"reply = {{'op': 'result', 'job': request['job'], 'compiled': False, "
                   f"'outcome': {full!r}}}")


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    pool = SandboxPool(escape_hook=True, spare_children=0)
    await pool.start()
    yield pool
    await pool.close()


async def test_the_hook_really_runs_unrestricted_code(pool: SandboxPool) -> None:
    outcome = await run(pool, escaped("import sys\nresult = type(sys.modules['os']).__name__"))
    assert (outcome.status, outcome.logs) == ("ok", "ok: 'module'")


async def test_the_hook_is_off_unless_the_pool_asks_for_it() -> None:
    plain = SandboxPool(spare_children=0)
    await plain.start()
    try:
        outcome = await run(plain, escaped("result = 1") + HONEST)
        # Without the hook the marker is a comment: the source runs restricted as usual.
        assert outcome.status == "ok"
        assert outcome.logs == ""
        assert outcome.effects == [{"op": "id_token.set_custom_claim",
                                    "args": {"name": "https://a.example/ok", "value": 1}}]
    finally:
        await plain.close()


async def test_forged_effects_never_reach_the_outcome(pool: SandboxPool) -> None:
    forged = forged_reply({"effects": [
        {"op": "id_token.set_custom_claim", "args": {"name": "https://a.example/ok", "value": 1}},
        {"op": "user.set_app_metadata", "args": {"name": "blocked", "value": False}},
    ]})
    outcome = await run(pool, forged)
    assert outcome.status == "error"
    assert outcome.effects == []
    assert outcome.error["class"] == "invalid_effect"
    assert "effect 1 (user.set_app_metadata): app_metadata name 'blocked' is reserved" in (
        outcome.error["message"])
    assert pool.stats.invalid_effects == 1
    assert pids(pool, "acme") == []  # a child that lied is not kept
    assert (await run(pool, HONEST)).status == "ok"


async def test_forged_flags_and_logs_are_the_workers_to_decide(pool: SandboxPool) -> None:
    claim = {"op": "id_token.set_custom_claim", "args": {"name": "https://a.example/ok", "value": 1}}
    outcome = await run(pool, forged_reply({
        "status": "denied", "effects": [claim], "duration_ms": -5.0,
        "logs": "\x1b[2Jfake prompt$ " + "y" * 40_000}))
    assert outcome.status == "ok"  # no access.deny effect: not denied, whatever the flag says
    assert outcome.effects == [claim]
    assert outcome.duration_ms > 0
    assert outcome.logs.startswith("\\x1b[2Jfake prompt$ yyy")
    assert len(outcome.logs.encode()) < Limits().log_limit_bytes + 200
    undenied = await run(pool, forged_reply({"status": "ok", "effects": [
        {"op": "access.deny", "args": {"reason": "x"}}]}))
    assert undenied.status == "denied"  # nor can it clear a deny it recorded


def _writes(data: str, then: str = "") -> str:
    return escaped(f"import os, struct, random\ndata = {data}\nview = memoryview(data)\n"
                   "while view:\n    view = view[os.write(fd, view):]\n"
                   f"sent = True\n{then}")


HOSTILE_WRITERS = [
    ("random bytes", _writes("random.Random(7).randbytes(5000)"), "crashed"),
    ("oversized length prefix", _writes("struct.pack('>I', 2**31) + b'x' * 100"), "crashed"),
    ("length prefix just past the cap", _writes("struct.pack('>I', 1024 * 1024 + 1)"),
     "crashed"),
    ("truncated frame, then exit", _writes("struct.pack('>I', 100) + b'\\x81' * 10",
                                           "os._exit(0)"), "crashed"),
    ("truncated frame, then hang", _writes("struct.pack('>I', 100) + b'\\x81' * 10",
                                           "import time\ntime.sleep(30)"), "action_timeout"),
    ("valid frame for another job", _writes(
        "protocol.encode({'op': 'result', 'job': request['job'] - 1, 'compiled': False, "
        "'outcome': {'status': 'ok', 'effects': [], 'logs': '', 'duration_ms': 0.0, "
        "'error': None}})"), "crashed"),
    ("flood of frames for other jobs", _writes(
        "protocol.encode({'op': 'result', 'job': 0, 'outcome': {}}) * 400_000"), "crashed"),
    ("msgpack nesting bomb", _writes("struct.pack('>I', 100001) + b'\\x91' * 100000 + b'\\xc0'"),
     "crashed"),
    ("a million-entry map header", _writes("struct.pack('>I', 5) + b'\\xdf\\x00\\x0f\\x42\\x40'"),
     "crashed"),
    ("ext type object", _writes("struct.pack('>I', 6) + b'\\x81\\xa2op\\xd4\\x01\\x00'"), "crashed"),
    ("not UTF-8", _writes("struct.pack('>I', 6) + b'\\x81\\xa2op\\xa1\\xff'"), "crashed"),
    ("ready frame instead of a result", _writes("protocol.encode({'op': 'ready', 'uid': 0})"),
     "crashed"),
    ("a reply past the 1 MiB cap", _writes(
        "protocol.encode({'op': 'result', 'job': request['job'], 'outcome': {'logs': "
        "'\\x01' * (8 * 1024 * 1024 - 100), 'effects': []}})"), "crashed"),
    ("an error class the verdict cannot hash", forged_reply({"error": {"class": ["x"]}}),
     "crashed"),
    ("blame claimed for the platform", forged_reply({"error": {
        "class": "platform_error", "message": "the platform is down"}}), "crashed"),
    ("a segfault of its own", escaped("import ctypes\nctypes.string_at(0)"), "crashed"),
    ("a log frame for another job", _writes(
        "protocol.encode({'op': 'log', 'job': request['job'] + 1, 'text': 'x'})"), "crashed"),
    ("log frames past the log limit", _writes(
        "protocol.encode({'op': 'log', 'job': request['job'], 'text': 'x' * 1000}) * 40"),
     "crashed"),
]


@pytest.mark.parametrize(("source", "error_class"), [w[1:] for w in HOSTILE_WRITERS],
                         ids=[w[0] for w in HOSTILE_WRITERS])
async def test_a_hostile_pipe_fails_only_that_action(pool: SandboxPool, source: str,
                                                     error_class: str) -> None:
    outcome = await run(pool, source, limits=Limits(timeout_s=1.0))
    assert outcome.status in ("error", "timeout")
    assert outcome.effects == []
    assert outcome.error["class"] == error_class
    assert pids(pool, "acme") == []  # the hostile child is gone, not parked for reuse
    nxt = await run(pool, HONEST)
    assert (nxt.status, len(nxt.effects)) == ("ok", 1)


async def test_a_run_killed_in_a_c_call_keeps_what_it_printed(pool: SandboxPool) -> None:
    source = action("print('about to spin', event.user.user_id)\n" + LONG_C_CALL)
    outcome = await run(pool, source, limits=Limits(timeout_s=0.3,
                                                    memory_limit_bytes=512 * 1024 * 1024))
    assert (outcome.status, outcome.error["class"]) == ("timeout", "action_timeout")
    assert pool.stats.killed == 1  # the SIGKILL, not the polite alarm, ended it
    assert outcome.logs == "about to spin u1\n"


async def test_slow_writes_are_cut_off_at_the_time_limit(pool: SandboxPool) -> None:
    slow = escaped("import os, time\nframe = protocol.encode({'op': 'result', 'job': request['job']})\n"
                   "for b in frame:\n    os.write(fd, bytes([b]))\n    time.sleep(0.2)\n")
    outcome = await run(pool, slow, limits=Limits(timeout_s=0.5))
    assert (outcome.status, outcome.error["class"]) == ("timeout", "action_timeout")
    assert pool.stats.killed == 1
    assert (await run(pool, HONEST)).status == "ok"


async def test_a_stray_frame_after_the_reply_does_not_reach_the_next_job(pool: SandboxPool) -> None:
    stray = escaped("protocol.write_frame_fd(fd, {'op': 'result', 'job': request['job'], "
                    "'compiled': False, 'outcome': {'status': 'ok', 'effects': [], 'logs': '', "
                    "'duration_ms': 0.0, 'error': None}})\n"
                    "protocol.write_frame_fd(fd, {'op': 'result', 'job': request['job'] + 1, "
                    "'outcome': {'status': 'ok', 'effects': [], 'logs': 'forged', "
                    "'duration_ms': 0.0, 'error': None}})\nsent = True")
    assert (await run(pool, stray)).status == "ok"
    await asyncio.sleep(0.2)  # let the stray frame arrive before the next job is sent
    nxt = await run(pool, HONEST)
    assert (nxt.status, nxt.logs) == ("ok", "")


async def test_an_idle_child_that_burns_cpu_is_killed(pool: SandboxPool) -> None:
    spinner = escaped("protocol.write_frame_fd(fd, {'op': 'result', 'job': request['job'], "
                      "'compiled': False, 'outcome': {'status': 'ok', 'effects': [], 'logs': '', "
                      "'duration_ms': 0.0, 'error': None}})\nsent = True\nwhile True:\n    pass")
    assert (await run(pool, spinner)).status == "ok"
    [pid] = pids(pool, "acme")  # it answered honestly, so it was parked for reuse
    for _ in range(100):  # bounded wait: the idle check runs every 0.25 s
        if pool.stats.idle_cpu_kills:
            break
        await asyncio.sleep(0.1)
    assert pool.stats.idle_cpu_kills == 1
    assert pids(pool, "acme") == []
    for _ in range(50):
        if not pid_alive(pid):
            break
        await asyncio.sleep(0.1)
    assert not pid_alive(pid)


async def test_a_child_is_replaced_past_its_cpu_budget_and_killed_by_the_kernel_past_twice() -> None:
    pool = SandboxPool(escape_hook=True, spare_children=0, child_cpu_budget_s=0.2)
    await pool.start()
    try:
        # ~0.3 s of CPU (guarded): past the budget, far inside the kernel's limit even on a loaded machine
        busy = action("n = 0\nfor i in range(1_500_000):\n    n += i")
        assert (await run(pool, HONEST)).status == "ok"
        [child] = pool.child_info()
        assert child["report"]["cpu_limit_s"] == 1  # twice the budget, rounded to seconds
        assert (await run(pool, busy)).status == "ok"
        assert pool.stats.cpu_retired == 1
        assert pids(pool, "acme") == []
        spin = escaped("while True:\n    pass")
        outcome = await run(pool, spin, limits=Limits(timeout_s=5.0))
        # RLIMIT_CPU (1 s, twice the budget) ends it long before the 5 s watchdog would.
        assert outcome.status == "error"
        assert "sandbox child died by signal" in outcome.error["message"]
    finally:
        await pool.close()


async def test_per_action_affinity_keeps_actions_apart() -> None:
    pool = SandboxPool(spare_children=0, affinity="action")
    await pool.start()
    try:
        for key in ("a1@1", "a2@1", "a1@1"):
            outcome = await pool.run("acme", code_sha256="c", source=HONEST,
                                     trigger_id="post-login", handler="on_execute_post_login",
                                     event={}, secrets={}, cache={}, limits=Limits(),
                                     action_key=key)
            assert outcome.status == "ok"
        owners = sorted(c["tenant"] for c in pool.child_info())
        assert owners == ["acme\x1fa1@1", "acme\x1fa2@1"]  # one child each, the first reused
    finally:
        await pool.close()
    with pytest.raises(ValueError, match="affinity must be one of"):
        SandboxPool(affinity="user")


async def test_escaped_code_cannot_reach_the_worker_the_template_or_another_child(
        pool: SandboxPool) -> None:
    other = await run(pool, HONEST, tenant="other")
    assert other.status == "ok"
    [other_pid] = pids(pool, "other")
    targets = {"worker": os.getpid(), "template": pool.template_pid, "other child": other_pid}
    probe = escaped(
        "import os, ctypes, signal\nlibc = ctypes.CDLL(None, use_errno=True)\nout = {}\n"
        f"for name, pid in {targets!r}.items():\n"
        "    for what, call in [('kill', lambda: os.kill(pid, signal.SIGKILL)),\n"
        "                       ('pidfd', lambda: os.pidfd_open(pid)),\n"
        "                       ('mem', lambda: open(f'/proc/{pid}/mem', 'rb')),\n"
        "                       ('ptrace', lambda: libc.syscall(101, 16, pid, 0, 0) == 0 or "
        "(_ for _ in ()).throw(OSError(ctypes.get_errno(), 'ptrace')))]:\n"
        "        try:\n            call()\n            out[name + ' ' + what] = 'ALLOWED'\n"
        "        except OSError as exc:\n            out[name + ' ' + what] = exc.errno\n"
        "result = out")
    outcome = await run(pool, probe)
    assert outcome.status == "ok", outcome
    results = eval(outcome.logs.removeprefix("ok: "))  # a dict of names to errno values
    assert len(results) == 12
    assert set(results.values()) <= {1, 13}, results  # EPERM (seccomp) or EACCES (Landlock)
    assert pid_alive(pool.template_pid) and pid_alive(other_pid)
    assert (await run(pool, HONEST, tenant="other")).status == "ok"


async def test_the_only_descriptors_are_dev_null_and_its_own_pipe(pool: SandboxPool) -> None:
    probe = escaped(
        "import os, stat\nout = {}\nfor n in range(4096):\n    try:\n        st = os.fstat(n)\n"
        "    except OSError:\n        continue\n"
        "    out[n] = 'socket' if stat.S_ISSOCK(st.st_mode) else "
        "(os.major(st.st_rdev), os.minor(st.st_rdev))\nresult = out")
    outcome = await run(pool, probe)
    null = (1, 3)  # /dev/null's device numbers
    assert outcome.logs == f"ok: {({0: null, 1: null, 2: null, 3: 'socket'})!r}"


async def test_a_tenant_whose_runs_keep_crashing_is_paused(pool: SandboxPool) -> None:
    segfault = escaped("import ctypes\nctypes.string_at(0)")
    spawned_before = pool.stats.spawned
    # Each crash is re-run once in a fresh child: runs 1 and 2 crash twice, run 3 once more.
    outcomes = [await run(pool, segfault, tenant="crasher") for _ in range(3)]
    assert [o.error["message"] for o in outcomes] == [
        "the action's sandbox child died by signal SIGSEGV"] * 3
    paused = await run(pool, HONEST, tenant="crasher")  # even honest code waits it out
    assert paused.error["type"] == "CrashBudgetExceeded"
    assert "crashed their sandbox 5 times within 60 s" in paused.error["message"]
    assert pool.stats.spawned - spawned_before == 5  # and no fork after the pause began
    assert (await run(pool, HONEST, tenant="bystander")).status == "ok"
