"""Frames between the worker and its sandbox children: 4-byte length + one msgpack map.

The worker treats everything a child sends as hostile: frames are size-capped, decoded
with msgpack only (never pickle), and replies are checked field by field before they
become an ActionOutcome.
"""
from __future__ import annotations

import math
import os
import struct
from typing import TYPE_CHECKING, Any

import msgpack

from sandbox.outcome import STATUSES, ActionOutcome
from worker.errors import ProtocolError

if TYPE_CHECKING:  # the child imports this module too; asyncio would slow every fork
    import asyncio

MAX_FRAME_BYTES = 8 * 1024 * 1024
_HEADER = struct.Struct(">I")

# Child -> worker ops.
READY = "ready"  # after containment: the ContainmentReport fields
RESULT = "result"  # {"outcome": ActionOutcome dict, "compiled": bool}
# Worker -> child ops.
RUN = "run"

ERROR_CLASSES = frozenset({"action_error", "action_timeout", "memory_limit", "platform_error"})


def encode(message: dict[str, Any]) -> bytes:
    payload = msgpack.packb(message, use_bin_type=True)
    if len(payload) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ProtocolError(f"undecodable frame: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ProtocolError("frame is not a map with an 'op'")
    return message


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """One frame from a child; EOF raises IncompleteReadError, junk raises ProtocolError."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(f"child announced a {size}-byte frame (max {MAX_FRAME_BYTES})")
    return decode(await reader.readexactly(size))


def write_frame_fd(fd: int, message: dict[str, Any]) -> None:
    """Blocking write for the child side (plain write(2): all its seccomp filter allows)."""
    view = memoryview(encode(message))
    while view:
        view = view[os.write(fd, view):]


def read_frame_fd(fd: int) -> dict[str, Any] | None:
    """Blocking read for the child side; None on a clean EOF (the worker hung up)."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(f"worker sent a {size}-byte frame")
    payload = _read_exactly(fd, size)
    if payload is None:
        raise ProtocolError("EOF inside a frame")
    return decode(payload)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            if chunks:
                raise ProtocolError("EOF inside a frame")
            return None
        chunks += chunk
    return bytes(chunks)


def parse_outcome(data: Any) -> ActionOutcome:
    """Validate a child's outcome map field by field; anything off is a ProtocolError."""
    if not isinstance(data, dict):
        raise ProtocolError("outcome is not a map")
    status = data.get("status")
    if status not in STATUSES:
        raise ProtocolError(f"bad outcome status {status!r}")
    effects = data.get("effects", [])
    if not isinstance(effects, list) or not all(
        isinstance(e, dict) and isinstance(e.get("op"), str) and isinstance(e.get("args"), dict)
        for e in effects
    ):
        raise ProtocolError("effects must be a list of {op, args} maps")
    logs = data.get("logs", "")
    duration_ms = data.get("duration_ms", 0.0)
    if not isinstance(logs, str):
        raise ProtocolError("logs must be a string")
    if not isinstance(duration_ms, (int, float)) or not math.isfinite(duration_ms):
        raise ProtocolError("duration_ms must be a finite number")
    error = data.get("error")
    if error is not None:
        if not isinstance(error, dict) or error.get("class") not in ERROR_CLASSES:
            raise ProtocolError("error must be a map with a known class")
        line = error.get("line")
        if line is not None and not isinstance(line, int):
            raise ProtocolError("error line must be an integer")
        error = {
            "class": error["class"],
            "type": None if error.get("type") is None else str(error.get("type")),
            "message": str(error.get("message", "")),
            "line": line,
        }
    return ActionOutcome(
        status=status, effects=effects, logs=logs, duration_ms=float(duration_ms), error=error
    )
