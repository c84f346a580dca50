"""OS containment holds even for code that escaped RestrictedPython (unrestricted Python here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.limits import Limits
from worker.pool import SandboxPool

ENTRY = Path(__file__).with_name("contained.py")
EPERM = "[Errno 1] Operation not permitted"
EXPECTED_UID = 65534 if os.geteuid() == 0 else os.getuid()


def run_contained(snippet: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ENTRY), snippet], capture_output=True, text=True, timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _raise_errno(name: str) -> str:
    return (f"r = {name}\n"
            "if r != 0:\n"
            "    e = ctypes.get_errno()\n"
            "    raise OSError(e, os.strerror(e))\n")


ATTACKS = [
    ("open for read", "open('/etc/hostname').read()",
     f"PermissionError: {EPERM}: '/etc/hostname'"),
    ("open for write", "open('/tmp/contained-escape', 'w').write('x')",
     f"PermissionError: {EPERM}: '/tmp/contained-escape'"),
    ("inet socket", "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM)",
     f"PermissionError: {EPERM}"),
    ("unix socket", "import socket\nsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
     f"PermissionError: {EPERM}"),
    ("fork", "os.fork()", f"PermissionError: {EPERM}"),
    ("subprocess", "import subprocess\nsubprocess.run(['/bin/true'])", f"PermissionError: {EPERM}"),
    ("execv", "os.execv('/bin/true', ['true'])", f"PermissionError: {EPERM}"),
    ("ptrace attach parent", _raise_errno("libc.syscall(101, 16, os.getppid(), 0, 0)"),
     f"PermissionError: {EPERM}"),
    ("kill parent", "os.kill(os.getppid(), 0)", f"PermissionError: {EPERM}"),
    ("kill pid 1", "os.kill(1, 0)", f"PermissionError: {EPERM}"),
    ("setuid root", "os.setuid(0)", f"PermissionError: {EPERM}"),
    ("new descriptor", "os.dup(1)", f"PermissionError: {EPERM}"),
    ("pipe", "os.pipe()", f"PermissionError: {EPERM}"),
    # Even lowering is refused (prlimit64 may only read); CPython words that EPERM this way.
    ("change own rlimit", "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 1))",
     "ValueError: not allowed to raise maximum limit"),
]


@pytest.mark.parametrize(("snippet", "expected"), [a[1:] for a in ATTACKS],
                         ids=[a[0] for a in ATTACKS])
def test_escaped_code_is_still_contained(snippet: str, expected: str) -> None:
    assert run_contained(snippet)["result"] == expected


def test_pure_computation_still_works_and_kernel_reports_containment() -> None:
    out = run_contained("import hashlib\nresult = hashlib.sha256(b'x' * 1000).hexdigest()[:8]")
    assert out["result"] == "ok: '44f83544'"
    report = out["report"]
    assert (report["uid"], report["gid"]) == (EXPECTED_UID, EXPECTED_UID)
    assert report["no_new_privs"] == 1
    assert report["seccomp_mode"] == 2  # SECCOMP_MODE_FILTER, read from /proc after loading


async def test_pool_children_report_the_same_containment() -> None:
    pool = SandboxPool()
    await pool.start()
    try:
        outcome = await pool.run(
            "acme", code_sha256="c0", source="def on_execute_post_login(event, api):\n    pass\n",
            trigger_id="post-login", handler="on_execute_post_login", event={}, secrets={},
            cache={}, limits=Limits(),
        )
        assert outcome.status == "ok"
        [child] = [c for c in pool.child_info() if c["tenant"] == "acme"]
        report = child["report"]
        assert (report["uid"], report["no_new_privs"], report["seccomp_mode"]) == (
            EXPECTED_UID, 1, 2)
        assert report["pid"] == child["pid"] != os.getpid()
    finally:
        await pool.close()


async def test_worker_environment_does_not_reach_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIONS_ADMIN_TOKEN", "s3cret-admin-token")
    monkeypatch.setenv("ACTIONS_REDIS_URL", "redis://:s3cret-password@db:6379/0")
    pool = SandboxPool()
    await pool.start()
    try:
        outcome = await pool.run(
            "acme", code_sha256="c1", source="def on_execute_post_login(event, api):\n    pass\n",
            trigger_id="post-login", handler="on_execute_post_login", event={}, secrets={},
            cache={}, limits=Limits(),
        )
        assert outcome.status == "ok"
        for pid in [pool.template_pid, *(c["pid"] for c in pool.child_info())]:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            names = {entry.split(b"=")[0] for entry in environ.split(b"\0") if entry}
            assert b"s3cret" not in environ
            assert names <= {b"PATH", b"PYTHONPATH", b"LANG", b"LC_ALL", b"LC_CTYPE", b"TZ"}
    finally:
        await pool.close()
