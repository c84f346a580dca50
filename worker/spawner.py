"""The worker's handle on its warm template process: start it, ask for forks, learn of exits."""
from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import msgpack

from worker.errors import SandboxUnavailable, WorkerError
from worker.template import MAX_CONTROL_BYTES, send

# All the template (and so every child) inherits of the worker's environment: never the
# admin token, Redis URL or anything else a guest that escaped could read from its memory.
INHERITED_ENV = frozenset({"PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ"})


def template_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in INHERITED_ENV}


@dataclass
class Forked:
    """A freshly forked child as the worker sees it: pid, pidfd and the worker's socket end."""

    pid: int
    pidfd: int
    sock: socket.socket
    exit_status: asyncio.Future[int]  # waitpid status, -1 if the template died first


class Spawner:
    """Starts `python -m worker.template` and talks to it over a SOCK_SEQPACKET pair."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0
        self._ctl: socket.socket | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._pending: collections.deque[asyncio.Future[tuple[int, int]]] = collections.deque()
        self._exits: dict[int, asyncio.Future[int]] = {}

    @property
    def alive(self) -> bool:
        return self._ctl is not None and self.proc is not None and self.proc.poll() is None

    async def start(self, bpf: bytes | None, timeout_s: float = 30.0, *,
                    escape_hook: bool = False) -> None:
        """Start the template; `bpf` is the seccomp program it hands to children (None: none);
        `escape_hook` is the test-only hook of worker/child.py."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Popen from the loop's thread (not an executor): the template's parent-death signal
        # fires when the thread that forked it ends. Starting it takes a few milliseconds.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.template", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=template_environment(),
        )
        theirs.close()
        send(ours, {"op": "init", "bpf": bpf, "escape_hook": escape_hook})
        ours.setblocking(False)
        self._ctl = ours
        self._ready = loop.create_future()
        loop.add_reader(ours.fileno(), self._on_readable)
        try:
            ready = await asyncio.wait_for(asyncio.shield(self._ready), timeout_s)
        except (TimeoutError, WorkerError) as exc:
            await self.close()
            raise SandboxUnavailable(f"sandbox template did not start: {exc!r}") from None
        self.pid = int(ready["pid"])

    async def fork(self, *, memory_limit_bytes: int, seccomp: bool, cpu_limit_s: int) -> Forked:
        if not self.alive or self._ctl is None:
            raise WorkerError("sandbox template is not running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        try:
            request = {"op": "fork", "memory_limit_bytes": memory_limit_bytes, "seccomp": seccomp,
                       "cpu_limit_s": cpu_limit_s}
            send(self._ctl, request, [theirs.fileno()])
        except OSError as exc:
            self._pending.remove(future)
            ours.close()
            raise WorkerError(f"sandbox template unreachable: {exc}") from None
        finally:
            theirs.close()
        try:
            pid, pidfd = await future
        except BaseException:
            ours.close()
            raise
        return Forked(pid, pidfd, ours, self._exits[pid])

    def _on_readable(self) -> None:
        assert self._ctl is not None
        while self._ctl is not None:
            try:
                data, fds, _, _ = socket.recv_fds(self._ctl, MAX_CONTROL_BYTES, 1)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self._lost()
                return
            self._dispatch(msgpack.unpackb(data), fds)

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        op = message.get("op")
        if op == "forked" and fds and self._pending:
            pid = int(message["pid"])
            self._exits[pid] = asyncio.get_running_loop().create_future()
            future = self._pending.popleft()
            if future.done():  # the requester was cancelled: do not leak the child
                signal.pidfd_send_signal(fds[0], signal.SIGKILL)
                os.close(fds[0])
            else:
                future.set_result((pid, fds[0]))
        elif op == "fork_failed" and self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(WorkerError(f"fork failed: {message.get('error')}"))
        elif op == "exited":
            exit_future = self._exits.pop(int(message["pid"]), None)
            if exit_future is not None and not exit_future.done():
                exit_future.set_result(int(message["status"]))
        elif op == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(message)
        else:
            for fd in fds:
                os.close(fd)

    def _lost(self) -> None:
        error = WorkerError("sandbox template exited")
        if self._ctl is not None:
            asyncio.get_running_loop().remove_reader(self._ctl.fileno())
            self._ctl.close()
            self._ctl = None
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(error)
        for exit_future in self._exits.values():
            if not exit_future.done():
                exit_future.set_result(-1)
        self._exits.clear()

    async def close(self) -> None:
        if self._ctl is not None:
            self._lost()
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()  # its children follow through their parent-death signal
            await asyncio.get_running_loop().run_in_executor(None, self.proc.wait)
            self.proc = None
