"""Service configuration: one frozen dataclass built once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runtime.errors import ConfigError

MIB = 1024 * 1024
# What fits the pipe between a worker and its sandbox children (worker/protocol.py frames).
MAX_EGRESS_RESPONSE_BYTES = 4 * MIB
MAX_EGRESS_REQUEST_BYTES = 512 * 1024


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, raw, "must be an integer") from None
    if value < minimum:
        raise ConfigError(name, raw, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, raw, f"must be <= {maximum}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, raw, "must be a number") from None
    if value < minimum:
        raise ConfigError(name, raw, f"must be >= {minimum}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, raw, "must be true or false")


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = environ.get(name, "").strip().lower() or default
    if raw not in allowed:
        raise ConfigError(name, raw, f"must be one of {', '.join(allowed)}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a newcomer gets from `make run`."""

    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = None
    redis_url: str | None = None  # None: `serve` starts an embedded redis-server under var_dir
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    worker_slots: int = 4  # executions one worker runs at once (one sandbox child each)
    tenant_max_inflight: int = 0  # 0: half of the live execution slots
    var_dir: Path = Path("var")
    # Sandbox defaults (per tenant overridable where noted in docs/).
    action_timeout_s: float = 5.0
    flow_deadline_s: float = 20.0
    kill_grace_s: float = 0.5
    memory_limit_bytes: int = 128 * MIB
    # Gateway limits.
    max_body_bytes: int = 512 * 1024
    max_queue_length: int = 1000
    execution_ttl_s: int = 10 * 24 * 3600
    idempotency_ttl_s: int = 24 * 3600
    continuation_ttl_s: int = 3600  # how long a redirected flow waits for its continue call
    background_attempts: int = 3  # runs of a background flow before it is dead-lettered
    background_backoff_s: float = 1.0  # first retry delay; doubles each attempt
    # Refuse to run without seccomp unless this is set (logged loudly).
    insecure_no_seccomp: bool = False
    # "tenant": a sandbox child runs any action of one tenant; "action": one action version.
    child_affinity: str = "tenant"
    child_cpu_budget_s: float = 300.0  # a child is replaced after this much CPU time
    # Test-only (worker/child.py): source starting with "#!unrestricted" runs unrestricted.
    insecure_test_escape_hook: bool = False
    redis_socket_timeout_s: float = 5.0
    # fetch() from actions (worker/egress.py). Loopback is refused unless this is set (tests,
    # local development; logged at start); private and metadata addresses always are.
    egress_allow_loopback: bool = False
    egress_max_requests: int = 20  # requests (redirect hops included) per execution
    egress_max_response_bytes: int = MIB  # a response body, then FetchError("too_large")
    egress_max_request_bytes: int = 256 * 1024  # a request body
    egress_max_concurrent: int = 16  # requests in flight per worker process

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        port = _int(env, "ACTIONS_PORT", 8080, minimum=0)
        if port > 65535:
            raise ConfigError("ACTIONS_PORT", str(port), "must be <= 65535")
        return cls(
            host=env.get("ACTIONS_HOST") or "127.0.0.1",
            port=port,
            admin_token=env.get("ACTIONS_ADMIN_TOKEN") or None,
            redis_url=env.get("ACTIONS_REDIS_URL") or None,
            workers=_int(env, "ACTIONS_WORKERS", os.cpu_count() or 1, minimum=1),
            worker_slots=_int(env, "ACTIONS_WORKER_SLOTS", 4, minimum=1),
            tenant_max_inflight=_int(env, "ACTIONS_TENANT_MAX_INFLIGHT", 0, minimum=0),
            var_dir=Path(env.get("ACTIONS_VAR_DIR") or "var"),
            action_timeout_s=_float(env, "ACTIONS_ACTION_TIMEOUT_S", 5.0, minimum=0.01),
            flow_deadline_s=_float(env, "ACTIONS_FLOW_DEADLINE_S", 20.0, minimum=0.01),
            kill_grace_s=_float(env, "ACTIONS_KILL_GRACE_S", 0.5, minimum=0.0),
            memory_limit_bytes=_int(env, "ACTIONS_MEMORY_LIMIT_BYTES", 128 * MIB, minimum=16 * MIB),
            max_body_bytes=_int(env, "ACTIONS_MAX_BODY_BYTES", 512 * 1024, minimum=1024),
            max_queue_length=_int(env, "ACTIONS_MAX_QUEUE_LENGTH", 1000, minimum=1),
            execution_ttl_s=_int(env, "ACTIONS_EXECUTION_TTL_S", 10 * 24 * 3600, minimum=1),
            idempotency_ttl_s=_int(env, "ACTIONS_IDEMPOTENCY_TTL_S", 24 * 3600, minimum=1),
            continuation_ttl_s=_int(env, "ACTIONS_CONTINUATION_TTL_S", 3600, minimum=1),
            background_attempts=_int(env, "ACTIONS_BACKGROUND_ATTEMPTS", 3, minimum=1),
            background_backoff_s=_float(env, "ACTIONS_BACKGROUND_BACKOFF_S", 1.0, minimum=0.0),
            insecure_no_seccomp=_bool(env, "ACTIONS_INSECURE_NO_SECCOMP", False),
            child_affinity=_choice(env, "ACTIONS_CHILD_AFFINITY", "tenant", ("tenant", "action")),
            child_cpu_budget_s=_float(env, "ACTIONS_CHILD_CPU_BUDGET_S", 300.0, minimum=1.0),
            insecure_test_escape_hook=_bool(env, "ACTIONS_INSECURE_TEST_ESCAPE_HOOK", False),
            redis_socket_timeout_s=_float(env, "ACTIONS_REDIS_SOCKET_TIMEOUT_S", 5.0, minimum=0.1),
            egress_allow_loopback=_bool(env, "ACTIONS_EGRESS_ALLOW_LOOPBACK", False),
            egress_max_requests=_int(env, "ACTIONS_EGRESS_MAX_REQUESTS", 20, minimum=0),
            egress_max_response_bytes=_int(env, "ACTIONS_EGRESS_MAX_RESPONSE_BYTES", MIB,
                                           minimum=1024, maximum=MAX_EGRESS_RESPONSE_BYTES),
            egress_max_request_bytes=_int(env, "ACTIONS_EGRESS_MAX_REQUEST_BYTES", 256 * 1024,
                                          minimum=0, maximum=MAX_EGRESS_REQUEST_BYTES),
            egress_max_concurrent=_int(env, "ACTIONS_EGRESS_MAX_CONCURRENT", 16, minimum=1),
        )
