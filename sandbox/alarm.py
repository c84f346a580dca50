"""The polite time limit: SIGALRM raises ActionTimeout in the guest; the supervisor's SIGKILL is the hard one.

Honest limits: a signal handler only runs between bytecodes, so a long C call (`re` backtracking,
a huge `math.factorial`, a big allocation) is not interrupted; the worker kills the child then.
Only works in the main thread; elsewhere `Deadline` arms nothing and relies on the supervisor.
"""
from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType

from sandbox.errors import ActionTimeout

# After the first alarm, raise again this often, in case the guest's exception slipped past
# the `except`/`finally` re-raise hook (e.g. into C code that swallows errors).
REFIRE_INTERVAL_S = 0.05


class Deadline:
    """Arms ITIMER_REAL for one run; restores the previous handler and timer on exit.

    `check()` is the guest's `_deadline_` hook, called first in every except/finally block.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.expired = False
        self.active = False
        self._armed = False
        self._previous_handler: object = None
        self._previous_timer: tuple[float, float] = (0.0, 0.0)
        self._started = 0.0

    def check(self) -> None:
        if self.expired and self.active:
            raise ActionTimeout(self.timeout_s)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self.active:
            self.expired = True
            raise ActionTimeout(self.timeout_s)

    def __enter__(self) -> Deadline:
        self.active = True
        if self.timeout_s > 0 and threading.current_thread() is threading.main_thread():
            self._started = time.monotonic()
            self._previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self._previous_timer = signal.setitimer(
                signal.ITIMER_REAL, self.timeout_s, REFIRE_INTERVAL_S)
            self._armed = True
        return self

    def disarm(self) -> None:
        """Stop raising; call first when the guest is done (a plain store: no signal check)."""
        self.active = False

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.active = False
        if not self._armed:
            return
        self._armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        previous = self._previous_handler
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)  # type: ignore[arg-type]
        remaining, interval = self._previous_timer
        if remaining > 0:
            # Someone else's timer (pytest-timeout, a supervisor helper) keeps its deadline.
            elapsed = time.monotonic() - self._started
            signal.setitimer(signal.ITIMER_REAL, max(remaining - elapsed, 0.001), interval)
