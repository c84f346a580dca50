"""The job and result payloads that travel gateway -> Redis stream -> worker -> gateway."""
from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import msgpack

FLOW = "flow"  # run the trigger's bound, deployed actions
TEST = "test"  # run one action's current draft (management test run)
CONTINUE = "continue"  # resume a paused flow at its redirecting action (`resume` says where)


def new_execution_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Job:
    """One execution request. `deadline_ms` is wall-clock epoch ms: past it nobody waits."""

    id: str
    tenant: str
    trigger: str
    event: dict[str, Any]
    deadline_ms: int
    action_timeout_s: float
    kind: str = FLOW
    reply_to: str | None = None  # gateway id whose result stream gets the answer; None: nobody waits
    action_id: str | None = None  # TEST jobs
    handler: str | None = None
    on_error: str = "fail_closed"
    attempt: int = 1
    # sha256 of the token the gateway hands out if this run pauses on a redirect (the token
    # itself never reaches Redis); None: no continuation (test runs)
    continuation_sha256: str | None = None
    # CONTINUE jobs: {"position", "effects", "records", "actions", "spent"} of the paused flow
    resume: dict[str, Any] | None = None
    submitted_ms: int = field(default_factory=now_ms)

    def encode(self) -> bytes:
        return msgpack.packb(asdict(self), use_bin_type=True)

    @classmethod
    def decode(cls, data: bytes) -> Job:
        raw = msgpack.unpackb(data, raw=False)
        if not isinstance(raw, dict):
            raise ValueError("job payload is not a map")
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in raw.items() if k in known})


def encode_result(result: dict[str, Any]) -> bytes:
    return msgpack.packb(result, use_bin_type=True)


def decode_result(data: bytes) -> dict[str, Any]:
    result = msgpack.unpackb(data, raw=False)
    if not isinstance(result, dict):
        raise ValueError("result payload is not a map")
    return result
