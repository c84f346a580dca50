"""OS containment holds even for code that escaped RestrictedPython (unrestricted Python here)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import containment, landlock
from sandbox.limits import Limits
from worker.pool import SandboxPool

ENTRY = Path(__file__).with_name("contained.py")
EPERM = "[Errno 1] Operation not permitted"
EXPECTED_UID = 65534 if os.geteuid() == 0 else os.getuid()


def run_contained(snippet: str, *flags: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ENTRY), snippet, *flags], capture_output=True, text=True,
        timeout=30, check=False,
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
    # 3.11/3.12: fork_exec's error pipe (pipe2) is refused first. 3.13 with glibc >= 2.34 takes
    # posix_spawn: clone3 is refused and the error names the executable.
    ("subprocess", "import subprocess\nsubprocess.run(['/bin/true'])",
     f"PermissionError: {EPERM}: '/bin/true'"
     if getattr(subprocess, "_HAVE_POSIX_SPAWN_CLOSEFROM", False) else f"PermissionError: {EPERM}"),
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
    ("raise the address-space limit", "resource.setrlimit(resource.RLIMIT_AS, (-1, -1))",
     "ValueError: not allowed to raise maximum limit"),
    ("set another process's rlimit", "resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)",
     f"PermissionError: {EPERM}"),
    ("open /proc/self/mem", "open('/proc/self/mem', 'rb')",
     f"PermissionError: {EPERM}: '/proc/self/mem'"),
    ("open /proc/self/environ", "open('/proc/self/environ', 'rb')",
     f"PermissionError: {EPERM}: '/proc/self/environ'"),
    ("open the parent's memory", "open(f'/proc/{os.getppid()}/mem', 'rb')",
     "PermissionError: " + EPERM + ": '/proc/{ppid}/mem'"),
    ("list a directory", "os.listdir('/')", f"PermissionError: {EPERM}: '/'"),
    ("inet6 socket", "socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)", f"PermissionError: {EPERM}"),
    ("netlink socket", "socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)",
     f"PermissionError: {EPERM}"),
    ("packet socket", "socket.socket(socket.AF_PACKET, socket.SOCK_RAW)", f"PermissionError: {EPERM}"),
    ("socketpair", "socket.socketpair()", f"PermissionError: {EPERM}"),
    ("executable mapping", "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC)",
     f"PermissionError: {EPERM}"),
    ("make memory executable",
     "m = mmap.mmap(-1, 4096)\naddr = ctypes.addressof(ctypes.c_char.from_buffer(m))\n"
     + _raise_errno("libc.mprotect(ctypes.c_void_p(addr), 4096, 5)"), f"PermissionError: {EPERM}"),
    ("setresuid root", "os.setresuid(0, 0, 0)", f"PermissionError: {EPERM}"),
    ("signal the parent with tgkill", _raise_errno("libc.syscall(234, os.getppid(), os.getppid(), 0)"),
     f"PermissionError: {EPERM}"),
]
# Raw syscalls with no Python wrapper, by x86_64 number: each must answer EPERM.
RAW_SYSCALLS = {
    "clone": "56, 17, 0, 0, 0", "clone3": "435, 0, 0", "vfork": "58",
    "process_vm_readv": "310, os.getppid(), 0, 0, 0, 0, 0",
    "process_vm_writev": "311, os.getppid(), 0, 0, 0, 0, 0",
    "pidfd_open": "434, os.getppid(), 0", "pidfd_send_signal": "424, 0, 9, 0, 0",
    "unshare": "272, 0x40000000", "setns": "308, 0, 0", "mount": "165, 0, 0, 0, 0, 0",
    "chroot": "161, 0", "bpf": "321, 0, 0, 0", "io_uring_setup": "425, 1, 0",
    "userfaultfd": "323, 0", "perf_event_open": "298, 0, 0, -1, -1, 0",
    "add_key": "248, 0, 0, 0, 0, 0", "keyctl": "250, 0, 0, 0, 0, 0",
    "memfd_create": "319, 0, 0", "seccomp": "317, 0, 0, 0", "prctl": "157, 38, 1, 0, 0, 0",
    "ioctl": "16, 3, 0x5401, 0", "pkey_mprotect": "329, 0, 4096, 7, 0",
    "personality": "135, 0xffffffff", "kill": "62, -1, 9",
}
if os.geteuid() == 0:
    # The root is an empty, deleted, root-only directory: every path answers alike, so stat
    # tells nothing about what exists outside.
    ATTACKS += [
        ("stat a file", "os.stat('/etc/passwd')",
         "PermissionError: [Errno 13] Permission denied: '/etc/passwd'"),
        ("stat a path that does not exist", "os.stat('/no/such/path')",
         "PermissionError: [Errno 13] Permission denied: '/no/such/path'"),
        ("stat another process", "os.stat('/proc/1')",
         "PermissionError: [Errno 13] Permission denied: '/proc/1'"),
        ("chroot back out", "os.chroot('/tmp')", f"PermissionError: {EPERM}: '/tmp'"),
    ]
if platform.machine() == "x86_64":
    ATTACKS += [(f"raw {name}", _raise_errno(f"libc.syscall({args})"), f"PermissionError: {EPERM}")
                for name, args in RAW_SYSCALLS.items()]


@pytest.mark.parametrize(("snippet", "expected"), [a[1:] for a in ATTACKS],
                         ids=[a[0] for a in ATTACKS])
def test_escaped_code_is_still_contained(snippet: str, expected: str) -> None:
    out = run_contained(snippet)
    assert out["result"] == expected.replace("{ppid}", str(os.getpid()))


@pytest.mark.skipif(landlock.abi_version() == 0, reason="the kernel has no Landlock")
@pytest.mark.parametrize(("snippet", "expected"), [
    ("open('/etc/hostname').read()", "PermissionError: [Errno 13] Permission denied: '/etc/hostname'"),
    ("open('/proc/self/mem', 'rb')", "PermissionError: [Errno 13] Permission denied: '/proc/self/mem'"),
    ("socket.socket().connect(('127.0.0.1', 9))", "PermissionError: [Errno 13] Permission denied"),
], ids=["file", "own memory", "tcp connect"])
def test_landlock_holds_where_a_seccomp_mistake_would_not(snippet: str, expected: str) -> None:
    """Without the syscall filter at all, Landlock alone still refuses files and TCP."""
    out = run_contained(snippet, "--no-seccomp")
    assert out["report"]["seccomp_mode"] == 0
    assert out["report"]["landlock_abi"] == landlock.abi_version()
    assert out["result"] == expected


def test_the_syscall_table_gives_a_reason_for_every_entry() -> None:
    assert all(len(reason) >= 8 for reason in containment.ALLOWED_SYSCALLS.values())
    assert not {"open", "openat", "socket", "connect", "clone", "fork", "execve", "ptrace",
                "kill", "dup", "ioctl", "prctl"} & set(containment.ALLOWED_SYSCALLS)


def test_pure_computation_still_works_and_kernel_reports_containment() -> None:
    out = run_contained("import hashlib\nresult = hashlib.sha256(b'x' * 1000).hexdigest()[:8]")
    assert out["result"] == "ok: '44f83544'"
    report = out["report"]
    assert (report["uid"], report["gid"]) == (EXPECTED_UID, EXPECTED_UID)
    assert report["no_new_privs"] == 1
    assert report["seccomp_mode"] == 2  # SECCOMP_MODE_FILTER, read from /proc after loading
    assert report["chrooted"] is (os.geteuid() == 0)


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
