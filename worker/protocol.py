"""Frames between the worker and its sandbox children: 4-byte length + one msgpack map.

The worker treats everything a child sends as hostile: frames are size-capped, decoded
with msgpack only (never pickle) under explicit limits, and every reply names the job it
answers; worker/verdict.py then checks it field by field before it becomes an ActionOutcome.
"""
from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

import msgpack

from worker.errors import ProtocolError

if TYPE_CHECKING:  # the child imports this module too; asyncio would slow every fork
    import asyncio

MAX_FRAME_BYTES = 8 * 1024 * 1024  # a job (its event, secrets, cache) to a child
# A reply: effects (256 KiB), logs (16 KiB) and error text fit many times over. Kept small
# because a hostile reply is decoded in the worker's event loop: 1 MiB of msgpack is at
# most ~1M objects and ~0.1 s, where 8 MiB blocked the loop ~5 s and cost ~600 MiB.
MAX_REPLY_BYTES = 1024 * 1024
_HEADER = struct.Struct(">I")

# Child -> worker ops.
READY = "ready"  # after containment: the ContainmentReport fields
RESULT = "result"  # {"job": int, "outcome": ActionOutcome dict, "compiled": bool}
LOG = "log"  # {"job": int, "text": str}: printed text, sent as it is printed
FETCH = "fetch"  # {"job": int, "request": sandbox.fetch request map}; the child then waits
# Worker -> child ops.
RUN = "run"  # {"job": int, ...}: the child echoes `job`, so a stale or forged reply is seen
# {"job": int, "response": {status, headers, body, url, redirected}} or
# {"job": int, "error": {"reason", "message"}}: the answer to the child's FETCH
FETCH_REPLY = "fetch_reply"

# msgpack's own limits, set explicitly: no container or string past these, no ext types
# (which would decode into objects other than plain data). Nesting is bounded by the C
# unpacker's stack; the verdict walks values iteratively up to its own depth limit.
_UNPACK_LIMITS = {  # the buffer itself is one frame: at most MAX_FRAME_BYTES
    "max_str_len": MAX_FRAME_BYTES,
    "max_bin_len": MAX_FRAME_BYTES, "max_array_len": 65_536, "max_map_len": 65_536,
    "max_ext_len": 0,
}


def encode(message: dict[str, Any]) -> bytes:
    payload = msgpack.packb(message, use_bin_type=True)
    if len(payload) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(payload, raw=False, strict_map_key=True, **_UNPACK_LIMITS)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ProtocolError(f"undecodable frame: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ProtocolError("frame is not a map with an 'op'")
    return message


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """One frame from a child; EOF raises IncompleteReadError, junk raises ProtocolError."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_REPLY_BYTES:
        raise ProtocolError(f"child announced a {size}-byte frame (max {MAX_REPLY_BYTES})")
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
