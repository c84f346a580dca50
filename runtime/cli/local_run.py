"""`actions-runtime run ACTION.py`: one action through the real sandbox pool, for action authors.

Exit status: 0 the action ran to completion (a deny included), 1 it failed (error, timeout,
memory limit), 2 it could not run (unreadable file, compile errors, bad event, unknown
trigger or handler, bad --secret or --allow-host, no seccomp without
ACTIONS_INSECURE_NO_SECCOMP=1). fetch() reaches only the --allow-host entries, under the same
checks as in the service (docs/isolation.md).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from runtime.egress_hosts import AllowList, AllowListError, parse_allow_list
from runtime.errors import ConfigError
from runtime.settings import Settings
from sandbox.compiler import compile_action
from sandbox.limits import Limits
from sandbox.triggers import TRIGGERS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2


class _Unusable(Exception):
    """Raised when the command line names something that cannot be run."""


def _read_inputs(args: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, str], str]:
    if args.trigger not in TRIGGERS:
        raise _Unusable(f"unknown trigger {args.trigger!r}; known: {', '.join(TRIGGERS)}")
    handlers = TRIGGERS[args.trigger].handlers
    handler = args.handler or handlers[0]
    if handler not in handlers:
        raise _Unusable(f"trigger {args.trigger} has no handler {handler!r}; "
                        f"it has {', '.join(handlers)}")
    try:
        source = Path(args.action).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unusable(f"cannot read action file {args.action}: {exc}") from None
    try:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unusable(f"cannot read event file {args.event}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise _Unusable(f"event file {args.event} is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise _Unusable(f"event file {args.event} must hold a JSON object")
    secrets: dict[str, str] = {}
    for item in args.secret:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _Unusable(f"--secret {item!r}: expected NAME=VALUE")
        secrets[name.strip()] = value
    return source, event, secrets, handler


async def _run(source: str, event: dict[str, Any], secrets: dict[str, str], handler: str,
               trigger_id: str, settings: Settings, limits: Limits,
               allowed: AllowList) -> dict[str, Any]:
    from worker.egress import Egress, EgressLimits, with_egress
    from worker.flow import FlowAction, run_flow
    from worker.pool import SandboxPool

    async def policy(tenant: str) -> AllowList:
        return allowed

    pool = SandboxPool.from_settings(settings)
    await pool.start()
    try:
        action = FlowAction(
            action_id="local", name="local", version=None, code=source,
            code_sha256=hashlib.sha256(source.encode()).hexdigest(), secrets=secrets, cache={},
        )
        runner = with_egress(run_flow, Egress(EgressLimits.from_settings(settings), policy))
        return await runner(
            pool, tenant="local", trigger_id=trigger_id, actions=[action], event=event,
            limits=limits, deadline=time.monotonic() + settings.flow_deadline_s, handler=handler,
        )
    finally:
        await pool.close()


def run_local(args: argparse.Namespace) -> int:
    """Run one action file; print {status, effects, logs, error, actions} as JSON on stdout."""
    from worker.errors import SandboxUnavailable

    try:
        settings = Settings.from_env()
        source, event, secrets, handler = _read_inputs(args)
        allowed = AllowList(tuple(parse_allow_list(list(args.allow_host))))
    except AllowListError as exc:
        print(f"actions-runtime run: --allow-host {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (ConfigError, _Unusable) as exc:
        print(f"actions-runtime run: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    limits = Limits(memory_limit_bytes=settings.memory_limit_bytes)
    timeout_s = args.timeout_s if args.timeout_s is not None else settings.action_timeout_s
    if not timeout_s > 0:
        print("actions-runtime run: --timeout-s must be positive", file=sys.stderr)
        return EXIT_UNUSABLE
    limits = dataclasses.replace(limits, timeout_s=timeout_s)
    compiled = compile_action(source, filename=Path(args.action).name, limits=limits)
    if not compiled.ok:
        print(f"actions-runtime run: {args.action} does not compile:", file=sys.stderr)
        for error in compiled.errors:
            print(f"  line {error.line}, column {error.column}: {error.message}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        flow = asyncio.run(_run(source, event, secrets, handler, args.trigger, settings, limits,
                                allowed))
    except SandboxUnavailable as exc:
        print(f"actions-runtime run: the sandbox is unavailable: {exc} "
              "(ACTIONS_INSECURE_NO_SECCOMP=1 runs without seccomp, insecurely)", file=sys.stderr)
        return EXIT_UNUSABLE
    record = flow["actions"][0]
    result = {
        "status": record["status"],
        "effects": [{"op": e["op"], "args": e["args"]} for e in flow["effects"]],
        "logs": record["logs"],
        "error": record["error"],
        "duration_ms": record["duration_ms"],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return EXIT_OK if record["status"] in ("ok", "denied") else EXIT_FAILED
