"""The child -> worker pipe: every frame a (possibly compromised) child sends is checked."""
from __future__ import annotations

import asyncio
import pickle
import struct
from typing import Any

import msgpack
import pytest

from sandbox.outcome import ActionOutcome
from worker import protocol
from worker.errors import ProtocolError

GOOD: dict[str, Any] = {"status": "ok", "effects": [{"op": "access.deny", "args": {"reason": "x"}}],
        "logs": "hi", "duration_ms": 1.5, "error": None}

BAD_OUTCOMES = [
    ("not a map", [1, 2], "outcome is not a map"),
    ("unknown status", {**GOOD, "status": "fine"}, "bad outcome status 'fine'"),
    ("effect without op", {**GOOD, "effects": [{"args": {}}]},
     "effects must be a list of {op, args} maps"),
    ("effects not a list", {**GOOD, "effects": "x"}, "effects must be a list of {op, args} maps"),
    ("logs not text", {**GOOD, "logs": b"x"}, "logs must be a string"),
    ("infinite duration", {**GOOD, "duration_ms": float("inf")},
     "duration_ms must be a finite number"),
    ("unknown error class", {**GOOD, "status": "error", "error": {"class": "mine"}},
     "error must be a map with a known class"),
    ("line not an int", {**GOOD, "status": "error",
                         "error": {"class": "action_error", "line": "4"}},
     "error line must be an integer"),
]


@pytest.mark.parametrize(("data", "message"), [b[1:] for b in BAD_OUTCOMES],
                         ids=[b[0] for b in BAD_OUTCOMES])
def test_bad_outcomes_are_refused(data: Any, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_outcome(data)
    assert str(caught.value) == message


def test_good_outcome_round_trips() -> None:
    frame = protocol.encode({"op": protocol.RESULT, "outcome": GOOD})
    decoded = protocol.decode(frame[4:])
    assert protocol.parse_outcome(decoded["outcome"]) == ActionOutcome(**GOOD)


def test_error_map_keeps_only_known_fields() -> None:
    outcome = protocol.parse_outcome({**GOOD, "status": "error", "error": {
        "class": "action_error", "type": "KeyError", "message": "k", "line": 3, "extra": "x"}})
    assert outcome.error == {"class": "action_error", "type": "KeyError", "message": "k",
                             "line": 3}


@pytest.mark.parametrize(("payload", "message"), [
    (pickle.dumps({"op": "result"}), "undecodable frame"),  # never unpickled
    (msgpack.packb([1, 2]), "frame is not a map with an 'op'"),
    (msgpack.packb({"no": "op"}), "frame is not a map with an 'op'"),
    (msgpack.packb({1: "int key"}), "undecodable frame"),
], ids=["pickle", "list", "no op", "int keys"])
def test_junk_frames_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(payload)
    assert str(caught.value).startswith(message)


async def test_oversized_frame_is_refused_before_reading_it() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(struct.pack(">I", protocol.MAX_FRAME_BYTES + 1))
    with pytest.raises(ProtocolError) as caught:
        await protocol.read_frame(reader)
    assert str(caught.value) == (
        f"child announced a {protocol.MAX_FRAME_BYTES + 1}-byte frame "
        f"(max {protocol.MAX_FRAME_BYTES})")


def test_oversized_message_is_not_sent() -> None:
    with pytest.raises(ProtocolError):
        protocol.encode({"op": "run", "source": "x" * protocol.MAX_FRAME_BYTES})
