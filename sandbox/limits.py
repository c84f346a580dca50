"""Per-execution resource limits: one frozen dataclass shared by the sandbox and its supervisor."""
from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    """Limits for one action run. Hard ones are enforced from outside the guest (worker/)."""

    timeout_s: float = 5.0  # wall clock per action; the supervisor SIGKILLs at timeout_s + grace
    memory_limit_bytes: int = 128 * MIB  # address space allowed above the warm template
    log_limit_bytes: int = 16 * KIB  # print() output kept per action, then a truncation marker
    max_effects: int = 256  # api calls recorded per action
    effect_value_limit_bytes: int = 64 * KIB  # one claim / metadata / cache value, serialized
    effects_limit_bytes: int = 256 * KIB  # all effects of one action, serialized
    source_limit_bytes: int = 256 * KIB  # action source code
