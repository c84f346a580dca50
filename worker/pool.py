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
import itertools
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sandbox import containment
from sandbox.limits import Limits
from sandbox.outcome import CRASHED, ERROR, PLATFORM_ERROR, ActionOutcome
from worker import child as child_module
from worker import protocol
from worker.egress import EgressScope
from worker.errors import PoolClosed, ProtocolError, SandboxUnavailable, WorkerError
from worker.handle import ChildHandle
from worker.spawner import Spawner

if TYPE_CHECKING:
    from runtime.settings import Settings

log = logging.getLogger(__name__)

MIN_RERUN_S = 0.05  # below this, re-running a dead child's action is not worth trying
DEPRIORITIZE_AFTER_S = 0.03  # light actions take a few ms; spinners are far past this
LONG_RUN_NICE = 19
# A child between jobs sits in read(2) and uses no CPU; one that does is running code of its
# own (a compromised child): it is killed once it has used this much since its last job.
IDLE_CPU_BUDGET_S = 0.05
IDLE_CHECK_INTERVAL_S = 0.25
TENANT_AFFINITY = "tenant"
ACTION_AFFINITY = "action"
AFFINITIES = frozenset({TENANT_AFFINITY, ACTION_AFFINITY})
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
# A child whose resident memory grew by more than this share of its memory limit since it was
# forked is retired: whatever a run left behind in process-wide state must not starve the next.
MEMORY_GROWTH_LIMIT_FRACTION = 0.25


def resident_bytes(pid: int) -> int | None:
    """Resident memory of `pid` (/proc/PID/statm), None if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except OSError:
        return None


def cpu_time_s(pid: int) -> float | None:
    """User + system CPU seconds of `pid`, from the kernel (/proc/PID/stat); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def set_nice(pid: int, nice: int) -> bool:
    """Set a running child's CPU niceness; False if it is gone or the change is not allowed."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        return False
    return True


class CrashBudget:
    """Tenants whose runs keep crashing their children (a segfault, a protocol breach: in
    either case hostile or broken code) are paused, like a poison job is set aside: every
    crash costs a fork, and a stream of them is an attack on the worker's CPU."""

    CRASHES = 5
    WINDOW_S = 60.0
    PAUSE_S = 30.0

    def __init__(self) -> None:
        self._recent: dict[str, deque[float]] = {}
        self._paused_until: dict[str, float] = {}

    def note(self, tenant: str) -> None:
        now = time.monotonic()
        if tenant not in self._recent and len(self._recent) >= 10_000:  # bounded: forget the
            del self._recent[next(iter(self._recent))]  # tenant that crashed longest ago
        recent = self._recent.setdefault(tenant, deque(maxlen=self.CRASHES))
        recent.append(now)
        if len(recent) == self.CRASHES and now - recent[0] <= self.WINDOW_S:
            self._paused_until[tenant] = now + self.PAUSE_S
            recent.clear()
            log.warning("pausing tenant %r: %d crashed runs within %g s", tenant,
                        self.CRASHES, self.WINDOW_S)

    def paused_s(self, tenant: str) -> float:
        until = self._paused_until.get(tenant)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._paused_until[tenant]
            return 0.0
        return left


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
    invalid_effects: int = 0  # replies whose effects failed the worker's re-validation
    protocol_breaches: int = 0  # replies that broke the pipe protocol (child killed)
    idle_cpu_kills: int = 0  # children killed for using CPU between jobs
    cpu_retired: int = 0  # children retired for reaching their lifetime CPU budget
    memory_retired: int = 0  # children retired because their memory grew past the backstop
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
        affinity: str = TENANT_AFFINITY,
        child_cpu_budget_s: float = 300.0,
        escape_hook: bool = False,
    ) -> None:
        if affinity not in AFFINITIES:
            raise ValueError(f"affinity must be one of {', '.join(sorted(AFFINITIES))}")
        self.grace_s = grace_s
        # "tenant": a child runs any action of one tenant; "action": one action version only.
        self.affinity = affinity
        # Retired past this much CPU; the kernel kills it (RLIMIT_CPU) at twice as much.
        self.child_cpu_budget_s = child_cpu_budget_s
        self.escape_hook = escape_hook
        self._jobs = itertools.count(1)
        self._crashes = CrashBudget()
        self._watching: asyncio.Task[None] | None = None
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

    @classmethod
    def from_settings(cls, settings: Settings, slots: int = 1) -> SandboxPool:
        """The pool a process with `slots` concurrent runs uses under `settings`.

        One tenant may use every slot at once: keep that many of its children warm, or each
        burst pays a fork (~3 ms) per run beyond the idle cap.
        """
        return cls(grace_s=settings.kill_grace_s, insecure_no_seccomp=settings.insecure_no_seccomp,
                   max_idle_per_tenant=slots, max_idle=max(16, 2 * slots),
                   spare_memory_limit_bytes=settings.memory_limit_bytes,
                   affinity=settings.child_affinity, child_cpu_budget_s=settings.child_cpu_budget_s,
                   escape_hook=settings.insecure_test_escape_hook)

    async def start(self) -> None:
        """Start the template and prove a child can be contained; SandboxUnavailable if not."""
        seccomp_error = None
        try:
            self._bpf = containment.compile_filter()
        except (OSError, ImportError, RuntimeError, AttributeError) as exc:  # no libseccomp
            seccomp_error = f"libseccomp: {exc}"
        if seccomp_error is not None and not self.insecure_no_seccomp:
            raise SandboxUnavailable(f"seccomp is unavailable: {seccomp_error}", layer="seccomp")
        await self._template.start(self._bpf, escape_hook=self.escape_hook)
        self._started = True
        if self.escape_hook:
            log.warning("INSECURE TEST HOOK: action source starting with %r runs as unrestricted "
                        "Python in sandbox children. Never enable this outside tests.",
                        child_module.ESCAPE_MARKER)
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
        log.info("sandbox children are contained: uid %s, seccomp mode %s, landlock ABI %s "
                 "(0: none), lifetime CPU limit %s s", probe.report.get("uid"),
                 probe.report.get("seccomp_mode"), probe.report.get("landlock_abi"),
                 probe.report.get("cpu_limit_s"))
        if self.spare_children > 0 and probe.memory_limit_bytes == self.spare_memory_limit_bytes:
            self._spares.append(probe)  # never ran anything: as fresh as any spare
        else:
            self._kill(probe)
        self._replenish()
        self._watching = asyncio.get_running_loop().create_task(self._watch_idle())
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
        cache: Mapping[str, Any] | None,
        limits: Limits,
        action_key: str = "",
        egress: EgressScope | None = None,
    ) -> ActionOutcome:
        """Run one action for `tenant` in one of that tenant's children.

        `cache` is the action's api.cache entries, or None when they were not loaded (its
        cache effects are then refused). `action_key` names the action version, for
        per-action affinity. `egress` makes its fetch() requests (None: fetch is unavailable).

        A child that dies on its own mid-run (killed from outside, crashed) gets one re-run in a
        fresh child with the time left: an action's only effects are in its reply, so running
        it again cannot do anything twice, unless it made requests: a run that fetched is
        never re-run. A second death is reported as platform_error.
        """
        if not self._started or self._closed:
            raise PoolClosed("the sandbox pool is not running")
        request = {
            "op": protocol.RUN, "code_sha256": code_sha256, "source": source,
            "trigger_id": trigger_id, "handler": handler, "event": event,
            "secrets": dict(secrets), "cache": dict(cache or {}),
            "limits": dict(vars(limits)),  # asdict deep-copies: 10x slower
        }
        owner = tenant if self.affinity == TENANT_AFFINITY else f"{tenant}\x1f{action_key or code_sha256}"
        # The entries themselves, not only their keys: the worker re-checks the cache's byte
        # limits on the child's cache effects (sandbox/effect_totals.py).
        cache_keys = None if cache is None else MappingProxyType(dict(cache))
        paused = self._crashes.paused_s(tenant)
        if paused:
            return ActionOutcome.failure(
                ERROR, CRASHED, f"this tenant's actions crashed their sandbox "
                f"{CrashBudget.CRASHES} times within {CrashBudget.WINDOW_S:g} s; its runs are "
                f"refused for {paused:.0f} s more", error_type="CrashBudgetExceeded")
        started = time.monotonic()
        outcome, died = await self._run_once(owner, request, limits, cache_keys, egress)
        if (outcome.error or {}).get("class") == CRASHED:
            self._crashes.note(tenant)
        left_s = limits.timeout_s - (time.monotonic() - started)
        if died and not outcome.fetches and left_s > MIN_RERUN_S and not self._closed and (
                not self._crashes.paused_s(tenant)):
            self.stats.reruns += 1
            retry_limits = dataclasses.replace(limits, timeout_s=left_s)
            outcome, _ = await self._run_once(
                owner, {**request, "limits": dict(vars(retry_limits))}, retry_limits, cache_keys,
                egress)
            if (outcome.error or {}).get("class") == CRASHED:
                self._crashes.note(tenant)
        return outcome

    async def _run_once(self, tenant: str, request: dict[str, Any], limits: Limits,
                        cache_keys: Mapping[str, Any] | None,
                        egress: EgressScope | None = None) -> tuple[ActionOutcome, bool]:
        """The outcome, and whether the child died on its own during the run."""
        job = next(self._jobs)
        try:
            frame = protocol.encode({**request, "job": job})
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
                result = await child.exchange(
                    frame, limits, self.grace_s, job=job, trigger_id=str(request["trigger_id"]),
                    cache_keys=cache_keys, egress=egress)
            except BaseException:  # cancelled mid-run: the child's state is unknown
                self._kill(child)
                raise
            finally:
                slow.cancel()
            child.runs += 1
            self.stats.compiles += result.compiled
            self.stats.killed += result.watchdog_killed
            self.stats.died += result.died
            self.stats.invalid_effects += result.invalid_effect
            self.stats.protocol_breaches += result.protocol_breach
            if (result.healthy and child.runs < self.max_runs_per_child and not self._closed
                    and not child.said_more and self._fit_for_reuse(child)
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

    def _fit_for_reuse(self, child: ChildHandle) -> bool:
        """Whether `child` may run another job (CPU and memory backstops); notes its CPU time
        for the idle watch."""
        used_s, rss = cpu_time_s(child.pid), resident_bytes(child.pid)
        if used_s is None or rss is None:
            return False
        if used_s > self.child_cpu_budget_s:
            self.stats.cpu_retired += 1
            return False
        if rss - child.fresh_rss_bytes > child.memory_limit_bytes * MEMORY_GROWTH_LIMIT_FRACTION:
            self.stats.memory_retired += 1
            return False
        child.idle_cpu_mark_s = used_s
        return True

    def _idle_children(self) -> list[ChildHandle]:
        return [*self._spares, *(c for stack in self._idle.values() for c in stack)]

    async def _watch_idle(self) -> None:
        """Kill idle children that use CPU: between jobs an honest child only waits in read()."""
        while not self._closed:
            await asyncio.sleep(IDLE_CHECK_INTERVAL_S)
            for child in self._idle_children():
                if not self._idle_cpu_ok(child):
                    self._evict(child)

    def _idle_cpu_ok(self, child: ChildHandle) -> bool:
        used_s = cpu_time_s(child.pid)
        if used_s is None or child.idle_cpu_mark_s is None:
            return used_s is not None
        if used_s - child.idle_cpu_mark_s <= IDLE_CPU_BUDGET_S:
            return True
        self.stats.idle_cpu_kills += 1
        log.warning("killed sandbox child %d of %r: %.2f s of CPU while idle", child.pid,
                    child.tenant, used_s - child.idle_cpu_mark_s)
        return False

    def _evict(self, child: ChildHandle) -> None:
        """Take an idle or spare child out of circulation and kill it."""
        if child in self._spares:
            self._spares.remove(child)
            self._replenish()
        stack = self._idle.get(child.tenant)
        if stack is not None and child in stack:
            stack.remove(child)
            if not stack:
                del self._idle[child.tenant]
        self._kill(child)

    async def close(self) -> None:
        self._closed = True
        if self._watching is not None:
            self._watching.cancel()
            await asyncio.gather(self._watching, return_exceptions=True)
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
            if child.memory_limit_bytes == memory_limit_bytes and child.alive and (
                    not child.said_more and self._idle_cpu_ok(child)):
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
            if not child.alive or not self._idle_cpu_ok(child):
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
                await self._template.start(self._bpf, escape_hook=self.escape_hook)
        return await self._spawn(tenant, memory_limit_bytes)

    async def _spawn(self, tenant: str, memory_limit_bytes: int) -> ChildHandle:
        started = time.perf_counter()
        child = await ChildHandle.spawn(self._template, tenant=tenant,
                                        memory_limit_bytes=memory_limit_bytes, seccomp=self.seccomp,
                                        cpu_limit_s=max(1, int(2 * self.child_cpu_budget_s)))
        child.idle_cpu_mark_s = cpu_time_s(child.pid)
        child.fresh_rss_bytes = resident_bytes(child.pid) or 0
        self._children[child.pid] = child
        self.stats.spawned += 1
        self.stats.spawn_ms.append((time.perf_counter() - started) * 1000)
        return child

    def _kill(self, child: ChildHandle) -> None:
        """Retire a child for good: SIGKILL it and forget it."""
        self._children.pop(child.pid, None)
        child.kill()
