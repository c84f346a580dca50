"""Compiling tenant code for the management API, in a separate process under limits.

Compiling is pure Python (about 6 ms per KiB of source), so in the gateway process it would
hold the GIL and stall the execution hot path for every tenant; and hostile sources are
built to exhaust compilers. A one-process pool at low CPU priority and under an address-space
limit compiles instead; an overrun or a crash becomes a compile error and the pool is replaced.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sandbox.compiler import compile_action

COMPILE_TIMEOUT_S = 10.0
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
NICE = 10


def _limit_self() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    os.nice(NICE)


def _errors_of(source: str) -> list[dict[str, Any]]:
    return [error.to_json() for error in compile_action(source).errors]


def _failure(message: str) -> list[dict[str, Any]]:
    return [{"line": 1, "column": 0, "message": message}]


class Compiler:
    """`await errors(source)`: the compile errors of `source`, [] when it builds."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_self)
        return self._pool

    async def errors(self, source: str) -> list[dict[str, Any]]:
        future = asyncio.get_running_loop().run_in_executor(self._ensure(), _errors_of, source)
        try:
            return await asyncio.wait_for(future, COMPILE_TIMEOUT_S)
        except TimeoutError:
            self._discard(kill=True)
            return _failure(f"compiling took longer than {COMPILE_TIMEOUT_S:.0f} s")
        except (BrokenProcessPool, MemoryError):
            self._discard(kill=False)
            return _failure("the compiler ran out of memory or crashed on this source")

    def _discard(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # ProcessPoolExecutor cannot stop a running call; its process must go.
            for process in list(getattr(pool, "_processes", {}).values()):
                if process.pid is not None:
                    os.kill(process.pid, signal.SIGKILL)
        pool.shutdown(wait=False, cancel_futures=True)


COMPILER = Compiler()
