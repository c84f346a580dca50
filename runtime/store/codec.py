"""How store documents are encoded in Redis values: msgpack, with ISO-8601 UTC timestamps."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgpack


def pack(doc: Any) -> bytes:
    return msgpack.packb(doc, use_bin_type=True)


# redis-py types replies as `bytes | str` (str only with decode_responses, which we never set).
Reply = bytes | str


def unpack(raw: Reply) -> Any:
    return msgpack.unpackb(raw, raw=False)


def text(raw: Reply) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else raw


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
