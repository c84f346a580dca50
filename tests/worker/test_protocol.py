"""The child -> worker pipe: every frame a (possibly compromised) child sends is checked."""
from __future__ import annotations

import asyncio
import pickle
import struct

import msgpack
import pytest

from worker import protocol
from worker.errors import ProtocolError


@pytest.mark.parametrize(("payload", "message"), [
    (pickle.dumps({"op": "result"}), "undecodable frame"),  # never unpickled
    (msgpack.packb([1, 2]), "frame is not a map with an 'op'"),
    (msgpack.packb({"no": "op"}), "frame is not a map with an 'op'"),
    (msgpack.packb({1: "int key"}), "undecodable frame"),
    (msgpack.packb({"op": "result", "x": msgpack.ExtType(1, b"obj")}), "undecodable frame"),
    (b"\x91" * 100_000 + b"\xc0", "undecodable frame"),  # nesting past the C stack limit
    (b"\xdd\xff\xff\xff\xff", "undecodable frame"),  # a 4-billion-entry array header
    (msgpack.packb({"op": "result", "a": [0] * 70_000}), "undecodable frame"),
    (b"\xa3\xff\xfe\xfd", "undecodable frame"),  # a str that is not UTF-8
    (msgpack.packb({"op": "result"}) + b"\x00", "undecodable frame"),  # trailing bytes
], ids=["pickle", "list", "no op", "int keys", "ext type", "deep", "huge array header",
        "array over max_array_len", "invalid utf-8", "trailing data"])
def test_junk_frames_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(payload)
    assert str(caught.value).startswith(message)


async def test_oversized_frame_is_refused_before_reading_it() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(struct.pack(">I", protocol.MAX_REPLY_BYTES + 1))
    with pytest.raises(ProtocolError) as caught:
        await protocol.read_frame(reader)
    assert str(caught.value) == (
        f"child announced a {protocol.MAX_REPLY_BYTES + 1}-byte frame "
        f"(max {protocol.MAX_REPLY_BYTES})")


def test_oversized_message_is_not_sent() -> None:
    with pytest.raises(ProtocolError):
        protocol.encode({"op": "run", "source": "x" * protocol.MAX_FRAME_BYTES})
