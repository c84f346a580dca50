"""Load helpers: timed requests that record every outcome (status, error) and percentiles."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.service import Reply


@dataclass(frozen=True)
class Outcome:
    """One request as its caller saw it: a status, or the exception that replaced one."""

    started_s: float  # time.monotonic() at send
    elapsed_s: float
    status: int | None
    error: str | None = None
    code: str | None = None  # the error code of a JSON error body
    retry_after: str | None = None
    result: str | None = None  # the execution's own status ("success", "failed") on a 200


def timed(send: Callable[[], Reply]) -> Outcome:
    """Send once; a reset, refused or hung connection becomes an Outcome with `error`."""
    started = time.monotonic()
    try:
        reply = send()
    except Exception as exc:  # a reset, refusal or timeout is itself the finding
        return Outcome(started, time.monotonic() - started, None, f"{type(exc).__name__}: {exc}")
    body: dict[str, Any] = reply.body if isinstance(reply.body, dict) else {}
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    return Outcome(started, time.monotonic() - started, reply.status, None,
                   error.get("code"), reply.headers.get("Retry-After"),
                   body.get("status") if isinstance(body.get("status"), str) else None)


@dataclass
class Clients:
    """`count` threads each sending `send()` back to back until stop(); outcomes kept in order."""

    send: Callable[[], Reply]
    count: int
    pause_after: Callable[[Outcome], float] = lambda _o: 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Clients:
        for i in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"client-{i}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self, timeout_s: float = 30) -> list[Outcome]:
        """Stop sending and wait for the requests in flight (each is bounded by its timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        assert not any(t.is_alive() for t in self._threads), "a client thread is stuck"
        return self.outcomes

    def _loop(self) -> None:
        while not self._stop.is_set():
            outcome = timed(self.send)
            with self._lock:
                self.outcomes.append(outcome)
            pause = self.pause_after(outcome)
            if pause:
                self._stop.wait(pause)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
