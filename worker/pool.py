"""SandboxPool: tenant-affine sandbox children forked from the warm template, with a watchdog.

A child only ever runs one tenant's code; idle children are kept per tenant (bounded, least
recently used tenant evicted first) and retired after `max_runs_per_child` runs. The pool,
not the guest, decides timeouts: it SIGKILLs a child at `limits.timeout_s + grace_s` whatever
the child is doing. A child that timed out, ran out of memory, died or broke the protocol is
replaced; other runs never share its fate.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import containment
from sandbox.limits import Limits
from sandbox.outcome import ERROR, PLATFORM_ERROR, ActionOutcome
from worker import protocol
from worker.errors import PoolClosed, ProtocolError, SandboxUnavailable, WorkerError
from worker.handle import ChildHandle
from worker.spawner import Spawner

log = logging.getLogger(__name__)

MIN_RERUN_S = 0.05  # below this, re-running a dead child's action is not worth trying
DEPRIORITIZE_AFTER_S = 0.03  # light actions take a few ms; spinners are far past this
LONG_RUN_NICE = 19


def set_nice(pid: int, nice: int) -> bool:
    """Set a running child's CPU niceness; False if it is gone or the change is not allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        return False
    return True


@dataclass
class PoolStats:
    """Counters exposed as data (tests and metrics read them; nothing asserts on time)."""

    spawned: int = 0
    runs: int = 0
    compiles: int = 0  # runs whose child had to compile (a code-cache miss)
    killed: int = 0  # children SIGKILLed by the watchdog
    died: int = 0  # children that died on their own mid-run
    spare_hits: int = 0  # new-tenant runs served by a pre-forked spare
    reruns: int = 0  # runs repeated because their child died on its own
    spawn_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))  # fork -> ready
    acquire_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))  # run -> child


class SandboxPool:
    """Runs actions in contained children; asyncio-friendly and safe to call concurrently."""

    def __init__(
        self,
        *,
        grace_s: float = 0.5,
        insecure_no_seccomp: bool = False,
        max_children: int = 32,
        max_idle_per_tenant: int = 2,
        max_idle: int = 16,
        max_runs_per_child: int = 1000,
        spare_children: int = 1,
        spare_memory_limit_bytes: int = Limits().memory_limit_bytes,
    ) -> None:
        self.grace_s = grace_s
        self.insecure_no_seccomp = insecure_no_seccomp
        self.max_idle_per_tenant = max_idle_per_tenant
        self.max_idle = max_idle
        self.max_runs_per_child = max_runs_per_child
        # Fresh, contained children not yet bound to a tenant: a new tenant's first run takes
        # one instead of waiting for a fork; the pool forks its replacement in the background.
        self.spare_children = spare_children
        self.spare_memory_limit_bytes = spare_memory_limit_bytes
        self._spares: list[ChildHandle] = []
        self._replenishing: asyncio.Task[None] | None = None
        self._restarting = asyncio.Lock()
        self.stats = PoolStats()
        self.seccomp = True
        self._busy = asyncio.Semaphore(max_children)
        self._template = Spawner()
        self._bpf: bytes | None = None
        self._idle: OrderedDict[str, list[ChildHandle]] = OrderedDict()
        self._children: dict[int, ChildHandle] = {}
        self._started = False
        self._closed = False

    async def start(self) -> None:
        """Start the template and prove a child can be contained; SandboxUnavailable if not."""
        seccomp_error = None
        try:
            self._bpf = containment.compile_filter()
        except (OSError, ImportError, RuntimeError, AttributeError) as exc:  # no libseccomp
            seccomp_error = f"libseccomp: {exc}"
        if seccomp_error is not None and not self.insecure_no_seccomp:
            raise SandboxUnavailable(f"seccomp is unavailable: {seccomp_error}", layer="seccomp")
        await self._template.start(self._bpf)
        self._started = True
        self.seccomp = self._bpf is not None
        try:
            probe = await self._spawn("", self.spare_memory_limit_bytes)
        except SandboxUnavailable as exc:
            if not (self.insecure_no_seccomp and exc.layer == "seccomp"):
                await self.close()
                raise
            seccomp_error = str(exc)
            self.seccomp = False
            probe = await self._spawn("", self.spare_memory_limit_bytes)
        if self.spare_children > 0 and probe.memory_limit_bytes == self.spare_memory_limit_bytes:
            self._spares.append(probe)  # never ran anything: as fresh as any spare
        else:
            self._kill(probe)
        self._replenish()
        if not self.seccomp:
            log.warning(
                "INSECURE: seccomp is unavailable (%s); sandbox children run WITHOUT a syscall "
                "filter because insecure_no_seccomp is set. Do not run untrusted code like this.",
                seccomp_error,
            )

    async def run(
        self,
        tenant: str,
        *,
        code_sha256: str,
        source: str,
        trigger_id: str,
        handler: str,
        event: dict[str, Any],
        secrets: Mapping[str, str],
        cache: Mapping[str, Any],
        limits: Limits,
    ) -> ActionOutcome:
        """Run one action for `tenant` in one of that tenant's children.

        A child that dies on its own mid-run (killed from outside, crashed) gets one re-run in a
        fresh child with the time left: an action's only effects are in its reply, so running
        it again cannot do anything twice. A second death is reported as platform_error.
        """
        if not self._started or self._closed:
            raise PoolClosed("the sandbox pool is not running")
        request = {
            "op": protocol.RUN, "code_sha256": code_sha256, "source": source,
            "trigger_id": trigger_id, "handler": handler, "event": event,
            "secrets": dict(secrets), "cache": dict(cache), "limits": dict(vars(limits)),  # asdict deep-copies: 10x slower
        }
        started = time.monotonic()
        outcome, died = await self._run_once(tenant, request, limits)
        left_s = limits.timeout_s - (time.monotonic() - started)
        if died and left_s > MIN_RERUN_S and not self._closed:
            self.stats.reruns += 1
            retry_limits = dataclasses.replace(limits, timeout_s=left_s)
            outcome, _ = await self._run_once(
                tenant, {**request, "limits": dict(vars(retry_limits))}, retry_limits)
        return outcome

    async def _run_once(self, tenant: str, request: dict[str, Any],
                        limits: Limits) -> tuple[ActionOutcome, bool]:
        """The outcome, and whether the child died on its own during the run."""
        try:
            frame = protocol.encode(request)
        except (ProtocolError, TypeError, ValueError) as exc:
            return ActionOutcome.failure(ERROR, PLATFORM_ERROR, f"cannot send the job: {exc}"), False
        async with self._busy:
            acquiring = time.perf_counter()
            try:
                child = self._take_idle(tenant, limits.memory_limit_bytes) or self._take_spare(
                    tenant, limits.memory_limit_bytes
                ) or await self._spawn_retrying(tenant, limits.memory_limit_bytes)
            except WorkerError as exc:
                return ActionOutcome.failure(ERROR, PLATFORM_ERROR, f"no sandbox child: {exc}"), False
            self.stats.acquire_ms.append((time.perf_counter() - acquiring) * 1000)
            self.stats.runs += 1
            # A run still busy after DEPRIORITIZE_AFTER_S drops to the lowest CPU priority,
            # so a tenant's long spinners cannot slow other tenants' short actions.
            slow = asyncio.get_running_loop().call_later(
                DEPRIORITIZE_AFTER_S, set_nice, child.pid, LONG_RUN_NICE)
            try:
                result = await child.exchange(frame, limits, self.grace_s)
            except BaseException:  # cancelled mid-run: the child's state is unknown
                self._kill(child)
                raise
            finally:
                slow.cancel()
            child.runs += 1
            self.stats.compiles += result.compiled
            self.stats.killed += result.watchdog_killed
            self.stats.died += result.died
            if (result.healthy and child.runs < self.max_runs_per_child and not self._closed
                    and set_nice(child.pid, 0)):  # without the right to restore it: retire
                self._release(child)
            else:
                self._kill(child)
                if not result.healthy and not await child.wait_gone():
                    log.warning("sandbox child %d was not reaped in time", child.pid)
            # A memory-limit exit is a death too, but a deserved one: never re-run it.
            return result.outcome, result.died and result.outcome.status == ERROR

    @property
    def template_pid(self) -> int:
        return self._template.pid

    def child_info(self) -> list[dict[str, Any]]:
        """Every live child: pid, tenant ("" for a spare), runs, idle, spare, containment report."""
        idle = {c.pid for stack in self._idle.values() for c in stack}
        return [
            {"pid": c.pid, "tenant": c.tenant, "runs": c.runs, "idle": c.pid in idle,
             "spare": not c.tenant, "report": dict(c.report)}
            for c in self._children.values()
        ]

    async def close(self) -> None:
        self._closed = True
        if self._replenishing is not None:
            self._replenishing.cancel()
            await asyncio.gather(self._replenishing, return_exceptions=True)
        self._spares.clear()
        for child in list(self._children.values()):
            self._kill(child)
        self._idle.clear()
        await self._template.close()

    def _take_idle(self, tenant: str, memory_limit_bytes: int) -> ChildHandle | None:
        stack = self._idle.get(tenant)
        while stack:
            child = stack.pop()
            if not stack:
                del self._idle[tenant]
            if child.memory_limit_bytes == memory_limit_bytes and child.alive:
                return child
            self._kill(child)
            stack = self._idle.get(tenant)
        return None

    def _release(self, child: ChildHandle) -> None:
        stack = self._idle.setdefault(child.tenant, [])
        stack.append(child)
        self._idle.move_to_end(child.tenant)
        if len(stack) > self.max_idle_per_tenant:
            self._kill(stack.pop(0))
        while sum(len(s) for s in self._idle.values()) > self.max_idle:
            oldest_tenant, oldest = next(iter(self._idle.items()))
            self._kill(oldest.pop(0))
            if not oldest:
                del self._idle[oldest_tenant]

    def _take_spare(self, tenant: str, memory_limit_bytes: int) -> ChildHandle | None:
        while self._spares:
            child = self._spares.pop()
            if not child.alive:
                self._kill(child)
                continue
            if child.memory_limit_bytes != memory_limit_bytes:
                self._spares.append(child)
                return None
            child.tenant = tenant  # bound for life from here on
            self.stats.spare_hits += 1
            self._replenish()
            return child
        return None

    def _replenish(self) -> None:
        if self._replenishing is None or self._replenishing.done():
            self._replenishing = asyncio.get_running_loop().create_task(self._fill_spares())

    async def _fill_spares(self) -> None:
        while len(self._spares) < self.spare_children and not self._closed:
            try:
                child = await self._spawn_retrying("", self.spare_memory_limit_bytes)
            except WorkerError as exc:
                log.error("could not fork a spare sandbox child: %s", exc)
                return
            if self._closed:
                self._kill(child)
                return
            self._spares.append(child)

    async def _spawn_retrying(self, tenant: str, memory_limit_bytes: int) -> ChildHandle:
        async with self._restarting:
            if not self._template.alive:  # it died (or was killed): start a fresh one
                log.error("sandbox template is gone; restarting it")
                await self._template.close()
                self._template = Spawner()
                await self._template.start(self._bpf)
        return await self._spawn(tenant, memory_limit_bytes)

    async def _spawn(self, tenant: str, memory_limit_bytes: int) -> ChildHandle:
        started = time.perf_counter()
        child = await ChildHandle.spawn(self._template, tenant=tenant,
                                        memory_limit_bytes=memory_limit_bytes, seccomp=self.seccomp)
        self._children[child.pid] = child
        self.stats.spawned += 1
        self.stats.spawn_ms.append((time.perf_counter() - started) * 1000)
        return child

    def _kill(self, child: ChildHandle) -> None:
        """Retire a child for good: SIGKILL it and forget it."""
        self._children.pop(child.pid, None)
        child.kill()
