"""print() capture for one action run: RestrictedPython's `_print_` protocol, capped in bytes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class LogBuffer:
    """Everything one run printed, up to `limit_bytes` (UTF-8), then a truncation marker.

    `sink`, when given, receives each kept piece as it is printed: the sandbox child sends it
    to the worker at once, so a run killed in the middle of a C call keeps what it printed.
    """

    def __init__(self, limit_bytes: int, sink: Callable[[str], None] | None = None) -> None:
        self.limit_bytes = limit_bytes
        self.sink = sink
        self._parts: list[str] = []
        self._kept_bytes = 0
        self.dropped_bytes = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        room = self.limit_bytes - self._kept_bytes
        if len(data) <= room:
            self._keep(text)
            self._kept_bytes += len(data)
            return
        if room > 0:
            # Cut on a character boundary: a partial UTF-8 sequence is dropped, not mangled.
            kept = data[:room].decode("utf-8", "ignore")
            self._keep(kept)
            kept_bytes = len(kept.encode("utf-8", "backslashreplace"))
            self._kept_bytes += kept_bytes
            self.dropped_bytes += len(data) - kept_bytes
        else:
            self.dropped_bytes += len(data)

    def _keep(self, text: str) -> None:
        self._parts.append(text)
        if self.sink is not None and text:
            self.sink(text)

    def text(self) -> str:
        text = "".join(self._parts)
        if self.dropped_bytes:
            text += f"\n... [log truncated: {self.dropped_bytes} bytes dropped]"
        return text

    def collector(self, _getattr_: Any = None) -> PrintCollector:
        """The `_print_` factory: RestrictedPython calls it once per scope that prints."""
        return PrintCollector(self)


class PrintCollector:
    """What `print(...)` becomes in restricted code (`_print._call_print(...)`)."""

    def __init__(self, buffer: LogBuffer) -> None:
        self._buffer = buffer
        self._printed: list[str] = []  # RestrictedPython's `printed`: this scope's output

    def write(self, text: str) -> None:
        self._buffer.write(text)
        if len(self._printed) < 1024:
            self._printed.append(text)

    def __call__(self) -> str:
        return "".join(self._printed)

    def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n",
                    file: Any = None, flush: bool = False) -> None:
        if file is not None:
            raise TypeError("print(file=...) is not supported in actions")
        print(*objects, sep=sep, end=end, file=self)
