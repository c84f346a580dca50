"""The warm template (zygote): a process with the sandbox imported that forks children on request.

The worker starts it with `python -m worker.template` (a clean interpreter: no asyncio, no
threads, no Redis connection, no libseccomp mapped; libssl only as PyJWT's import brings it),
so a fork copies only warm sandbox state: about a millisecond instead of an interpreter
start-up. Messages are msgpack maps on a SOCK_SEQPACKET pair; descriptors travel with
SCM_RIGHTS:

    worker -> template  {"op": "init", "bpf": bytes | None, "escape_hook": bool}  once
    template -> worker  {"op": "ready", "pid"}  once, after warm-up
    worker -> template  {"op": "fork", "memory_limit_bytes", "seccomp": bool, "cpu_limit_s"}
                        + the child's socket
    template -> worker  {"op": "forked", "pid"} + a pidfd (race-free kill, exit polling)
    template -> worker  {"op": "fork_failed", "error"} instead, when fork(2) fails
    template -> worker  {"op": "exited", "pid", "status"} (waitpid status) once it has reaped one

The worker's side is worker/spawner.py.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import sys
from typing import Any

import msgpack

MAX_CONTROL_BYTES = 4096
EXIT_CHILD_CRASHED = 70  # child_main raised: a bug in the sandbox layer, not the guest
# Imported before the first fork so that children never need open() for them, which their
# seccomp filter forbids: the sandbox and every module an action may import.
WARM_MODULES = (
    "worker.child", "sandbox.compiler", "sandbox.execute", "RestrictedPython",
    "json", "re", "datetime", "math", "hashlib", "hmac", "base64", "uuid", "urllib.parse",
    "itertools", "functools", "collections", "decimal", "random", "string", "time",
    # what sandbox/apis/checks.py folds and parses hosts with (IDNA-style claim namespaces)
    "unicodedata", "stringprep", "ipaddress", "encodings.punycode",
    # api.redirect's tokens (sandbox/apis/redirect.py). PyJWT's package also imports its
    # JWKS client and with it urllib.request, http.client and ssl: about 60 us more per fork.
    "jwt",
)


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    socket.send_fds(sock, [msgpack.packb(message)], fds or [])


def _reap(ctl: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(ctl, {"op": "exited", "pid": pid, "status": status})


def _warm() -> None:
    import gc
    import importlib
    import time

    for name in WARM_MODULES:
        importlib.import_module(name)
    time.localtime()  # reads the zone file now, while open() is still allowed
    gc.collect()
    gc.freeze()  # children then leave the template's objects' pages shared (copy-on-write)


def _fork_child(request: dict[str, Any], sock_fd: int, devnull: int, program: Any,
                empty_root: int, closing: tuple[int, ...]) -> int:
    template_pid = os.getpid()
    pid = os.fork()
    if pid != 0:
        return pid
    from worker import child

    code = EXIT_CHILD_CRASHED
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in closing:
            os.close(fd)
        os.fchdir(empty_root)  # contain() makes it the child's `/`
        child.child_main(
            sock_fd, devnull,
            memory_limit_bytes=int(request["memory_limit_bytes"]),
            cpu_limit_s=int(request["cpu_limit_s"]),
            seccomp_filter=program if request.get("seccomp", True) else None,
            parent_pid=template_pid,
        )
        code = 0
    finally:
        os._exit(code)


def serve(ctl_fd: int, parent_pid: int) -> None:
    """The template's main loop; returns when the worker hangs up."""
    from sandbox import containment

    containment.prctl(containment.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    ctl = socket.socket(fileno=ctl_fd)
    data, _, _, _ = socket.recv_fds(ctl, MAX_CONTROL_BYTES, 0)
    if not data:
        return
    init = msgpack.unpackb(data)
    program = containment.SeccompProgram(init["bpf"]) if init.get("bpf") else None
    _warm()
    if init.get("escape_hook") is True:
        from worker import child

        child.escape_hook = True
    devnull = os.open(os.devnull, os.O_RDWR)
    empty_root = containment.empty_directory()
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    send(ctl, {"op": "ready", "pid": os.getpid()})
    try:
        _loop(ctl, wake_r, wake_w, devnull, program, empty_root)
    except OSError:  # ECONNRESET / EPIPE: the worker hung up mid-message; nothing to tell it
        return


def _loop(ctl: socket.socket, wake_r: int, wake_w: int, devnull: int, program: Any,
          empty_root: int) -> None:
    while True:
        readable, _, _ = select.select([ctl.fileno(), wake_r], [], [])
        if wake_r in readable:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            _reap(ctl)
        if ctl.fileno() not in readable:
            continue
        data, fds, _, _ = socket.recv_fds(ctl, MAX_CONTROL_BYTES, 1)
        if not data:
            return
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        try:
            pid = _fork_child(msgpack.unpackb(data), fds[0], devnull, program, empty_root,
                              (ctl.fileno(), wake_r, wake_w))
        except OSError as exc:  # EAGAIN / ENOMEM: this request fails, the template lives on
            send(ctl, {"op": "fork_failed", "error": str(exc)})
            continue
        finally:
            os.close(fds[0])
        pidfd = os.pidfd_open(pid)
        try:
            send(ctl, {"op": "forked", "pid": pid}, [pidfd])
        finally:
            os.close(pidfd)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
