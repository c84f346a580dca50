"""The worker's handle on one live sandbox child: spawn and verify it, run one job under the
watchdog, kill it. Everything the child says is checked; nothing it sends is unpickled."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sandbox.fetch import TOO_MANY_REQUESTS, UNAVAILABLE, FetchError
from sandbox.limits import Limits
from sandbox.outcome import (
    ACTION_ERROR,
    ACTION_TIMEOUT,
    CRASHED,
    DENIED,
    ERROR,
    INVALID_EFFECT,
    MEMORY_LIMIT,
    MEMORY_LIMIT_ERROR,
    OK,
    PLATFORM_ERROR,
    TIMEOUT,
    ActionOutcome,
)
from worker import protocol, verdict
from worker.child import EXIT_MEMORY
from worker.egress import EgressScope, error_reply
from worker.errors import ProtocolError, SandboxUnavailable
from worker.spawner import Forked, Spawner

SPAWN_TIMEOUT_S = 10.0
EXIT_WAIT_S = 2.0  # how long to wait for the template to report a dead child's status
# A request ends this long before the action's time does, so the child gets its answer (a
# FetchError "timeout" at worst) before its own alarm fires.
FETCH_MARGIN_S = 0.05


class FetchLedger:
    """The fetch() requests of one job: each FETCH frame answered through the execution's
    egress scope, and recorded. The frame itself must be well formed (this job, a map);
    what is wrong inside the request is answered with a FetchError, which the action may
    catch. A child that asks again after being told it made too many ignored the answer,
    which an honest one never does: that is a protocol breach."""

    def __init__(self, job: int, scope: EgressScope | None, deadline: float) -> None:
        self.job = job
        self.scope = scope
        self.deadline = deadline
        self.records: list[dict[str, Any]] = []
        self._refused_for_count = False

    async def answer(self, message: dict[str, Any]) -> bytes:
        if type(message.get("job")) is not int or message["job"] != self.job:
            raise ProtocolError("a fetch frame for another job")
        if type(message.get("request")) is not dict:
            raise ProtocolError("a fetch frame without a request map")
        if self._refused_for_count:
            raise ProtocolError("fetch frames after too_many_requests")
        if self.scope is None:
            reply = error_reply(FetchError(UNAVAILABLE, "no egress for this run"))
        else:
            reply, records = await self.scope.fetch(message["request"], deadline=self.deadline)
            self.records.extend(records)
        error = reply.get("error")
        if error is not None and error.get("reason") == TOO_MANY_REQUESTS:
            self._refused_for_count = True
        return protocol.encode({"op": protocol.FETCH_REPLY, "job": self.job, **reply})


@dataclass
class Exchange:
    """One job's result as the supervisor saw it."""

    outcome: ActionOutcome
    healthy: bool  # the child may run this tenant's next job
    compiled: bool = False  # the child had to compile (a code-cache miss)
    watchdog_killed: bool = False
    died: bool = False
    fetched: bool = False  # the action made requests: running it again would repeat them

    @property
    def invalid_effect(self) -> bool:
        return (self.outcome.error or {}).get("class") == INVALID_EFFECT

    @property
    def protocol_breach(self) -> bool:
        return (self.outcome.error or {}).get("class") == CRASHED and not self.died


def _platform_error(message: str, duration_ms: float) -> ActionOutcome:
    return ActionOutcome.failure(ERROR, PLATFORM_ERROR, message, duration_ms=duration_ms)


def _breach(problem: Exception, duration_ms: float) -> ActionOutcome:
    """A child that broke the protocol ran hostile code: the action's failure, not ours."""
    return ActionOutcome.failure(ERROR, CRASHED, f"sandbox child broke the protocol: {problem}",
                                 duration_ms=duration_ms, error_type="ProtocolViolation")


class ChildHandle:
    """A contained child, bound to `tenant` ("" while it is a spare)."""

    def __init__(self, forked: Forked, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, tenant: str, memory_limit_bytes: int) -> None:
        self.forked = forked
        self.reader = reader
        self.writer = writer
        self.tenant = tenant
        self.memory_limit_bytes = memory_limit_bytes
        self.report: dict[str, Any] = {}
        self.runs = 0
        self.killed = False
        self.idle_cpu_mark_s: float | None = None  # its CPU time when it last became idle
        self.fresh_rss_bytes = 0  # resident memory right after it was contained

    @property
    def pid(self) -> int:
        return self.forked.pid

    @property
    def alive(self) -> bool:
        return not (self.killed or self.forked.exit_status.done() or self.reader.at_eof())

    @property
    def said_more(self) -> bool:
        """Whether it sent bytes nobody asked for (after its reply): a stray frame would
        otherwise meet the next job. asyncio reads eagerly, so they sit in the reader."""
        return bool(getattr(self.reader, "_buffer", b""))

    @classmethod
    async def spawn(cls, spawner: Spawner, *, tenant: str, memory_limit_bytes: int,
                    seccomp: bool, cpu_limit_s: int) -> ChildHandle:
        """Fork a child and wait for its containment report; SandboxUnavailable if it is off."""
        forked = await spawner.fork(memory_limit_bytes=memory_limit_bytes, seccomp=seccomp,
                                    cpu_limit_s=cpu_limit_s)
        reader, writer = await asyncio.open_unix_connection(sock=forked.sock)
        child = cls(forked, reader, writer, tenant, memory_limit_bytes)
        try:
            hello = await asyncio.wait_for(protocol.read_frame(reader), SPAWN_TIMEOUT_S)
        except BaseException as exc:
            child.kill()
            if isinstance(exc, Exception):
                raise SandboxUnavailable(f"sandbox child did not start: {exc!r}") from None
            raise
        if hello.get("op") != protocol.READY:
            child.kill()
            raise SandboxUnavailable(
                f"sandbox child could not contain itself: {hello.get('message')}",
                layer=str(hello.get("layer")),
            )
        child.report = hello
        # Trust but verify: the kernel's own account, read by the child after the last layer.
        if (seccomp and hello.get("seccomp_mode") != 2) or hello.get("no_new_privs") != 1 or (
            os.geteuid() == 0 and hello.get("uid") == 0
        ):
            child.kill()
            raise SandboxUnavailable(f"sandbox child is not contained: {hello}", layer="verify")
        return child

    async def exchange(self, frame: bytes, limits: Limits, grace_s: float, *, job: int,
                       trigger_id: str, cache_keys: Collection[str] | None,
                       egress: EgressScope | None = None) -> Exchange:
        """Send job number `job` and wait for its outcome, at most `limits.timeout_s + grace_s`;
        the reply is judged by worker/verdict.py (`cache_keys` as check_effects takes them).
        The action's fetch() requests are made through `egress` meanwhile (FETCH frames),
        within its time; the outcome lists them in `fetches`, whatever the child says."""
        started = time.monotonic()
        fetches = FetchLedger(job, egress, started + limits.timeout_s - FETCH_MARGIN_S)
        result = await self._exchange(frame, limits, grace_s, job, trigger_id, cache_keys,
                                      started, fetches)
        result.outcome.fetches = fetches.records
        result.fetched = bool(fetches.records)
        return result

    async def _exchange(self, frame: bytes, limits: Limits, grace_s: float, job: int,
                        trigger_id: str, cache_keys: Collection[str] | None, started: float,
                        fetches: FetchLedger) -> Exchange:
        printed = verdict.StreamedLogs(job, limits.log_limit_bytes)

        async def send_and_receive() -> dict[str, Any]:
            self.writer.write(frame)
            await self.writer.drain()
            while True:  # log and fetch frames as the action runs, then its result
                message = await protocol.read_frame(self.reader)
                op = message.get("op")
                if op == protocol.LOG:
                    printed.add(message)
                elif op == protocol.FETCH:
                    self.writer.write(await fetches.answer(message))
                    await self.writer.drain()
                else:
                    return message

        def elapsed_ms() -> float:
            return (time.monotonic() - started) * 1000

        try:
            reply = await asyncio.wait_for(send_and_receive(), limits.timeout_s + grace_s)
        except TimeoutError:
            self.kill()  # whatever it is doing: a C call, a swallowed alarm, a hang
            return Exchange(ActionOutcome.failure(
                TIMEOUT, ACTION_TIMEOUT, f"action exceeded its time limit of {limits.timeout_s:g} s",
                duration_ms=elapsed_ms(), logs=printed.text(),
            ), healthy=False, watchdog_killed=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            death = await self._death_outcome(elapsed_ms())
            death.logs = printed.text()
            return Exchange(death, healthy=False, died=True)
        except ProtocolError as exc:
            self.kill()  # what it sends next cannot be trusted to start on a frame boundary
            breach = _breach(exc, elapsed_ms())
            breach.logs = printed.text()
            return Exchange(breach, healthy=False)
        try:
            outcome = verdict.judge(reply, job=job, trigger_id=trigger_id, limits=limits,
                                    cache_keys=cache_keys, elapsed_ms=elapsed_ms())
        except Exception as exc:  # ProtocolError, or a shape the verdict did not foresee
            self.kill()
            return Exchange(_breach(exc, elapsed_ms()), healthy=False)
        # A polite timeout or a memory limit leaves the child's heap suspect: replace it.
        healthy = outcome.status in (OK, DENIED) or (
            outcome.status == ERROR and (outcome.error or {}).get("class") == ACTION_ERROR
        )
        return Exchange(outcome, healthy=healthy, compiled=reply.get("compiled") is True)

    async def _death_outcome(self, duration_ms: float) -> ActionOutcome:
        try:
            status = await asyncio.wait_for(asyncio.shield(self.forked.exit_status), EXIT_WAIT_S)
        except TimeoutError:
            status = None
        if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_MEMORY:
            return ActionOutcome.failure(
                MEMORY_LIMIT, MEMORY_LIMIT_ERROR,
                f"memory limit of {self.memory_limit_bytes} bytes exceeded",
                duration_ms=duration_ms, error_type="MemoryError",
            )
        if status is None or status < 0:
            return _platform_error("sandbox child died with an unknown status", duration_ms)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            # Not ours (we record our kills): the OOM killer, an operator. Not the action's fault.
            return _platform_error("sandbox child died by signal SIGKILL", duration_ms)
        # A crash (SIGSEGV, SIGABRT, SIGSYS, SIGXCPU) or an exit: only the action ran there.
        how = (f"by signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"with exit code {os.WEXITSTATUS(status)}")
        return ActionOutcome.failure(ERROR, CRASHED, f"the action's sandbox child died {how}",
                                     duration_ms=duration_ms, error_type="ChildCrashed")

    def kill(self) -> None:
        """SIGKILL through the pidfd (never a recycled pid); idempotent."""
        if self.killed:
            return
        self.killed = True
        try:
            signal.pidfd_send_signal(self.forked.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self.forked.pidfd)
        self.writer.close()

    async def wait_gone(self) -> bool:
        """Wait until the template has reaped the child (its pid no longer exists)."""
        try:
            await asyncio.wait_for(asyncio.shield(self.forked.exit_status), EXIT_WAIT_S)
        except TimeoutError:
            return False
        return True
