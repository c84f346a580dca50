"""A trigger's flow: its bound actions run in binding order with Auth0's semantics.

Metadata an action sets is visible in `event.user` of the later ones; `api.access.deny`
lets the denying action finish and skips the rest; an error, timeout or memory limit fails
the flow and skips the rest, while effects of the actions before it still stand.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.effects import apply_to_event
from sandbox.limits import Limits
from sandbox.outcome import ACTION_TIMEOUT, DENIED, OK, TIMEOUT, ActionOutcome
from sandbox.triggers import TRIGGERS

SUCCESS = "success"
FLOW_DENIED = "denied"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class FlowAction:
    """One bound action as the flow runs it (a deployed version, or a draft with version None)."""

    action_id: str
    name: str
    version: int | None
    code: str
    code_sha256: str
    secrets: Mapping[str, str]
    cache: Mapping[str, Any] | None  # its api.cache entries; None: not loaded for this run


class Runner(Protocol):
    async def run(self, tenant: str, *, code_sha256: str, source: str, trigger_id: str,
                  handler: str, event: dict[str, Any], secrets: Mapping[str, str],
                  cache: Mapping[str, Any] | None, limits: Limits,
                  action_key: str = "") -> ActionOutcome: ...


def _record(action: FlowAction, status: str, outcome: ActionOutcome | None) -> dict[str, Any]:
    return {
        "name": action.name,
        "version": action.version,
        "status": status,
        "duration_ms": round(outcome.duration_ms, 3) if outcome else 0.0,
        "logs": outcome.logs if outcome else "",
        "error": outcome.error if outcome else None,
    }


async def run_flow(
    pool: Runner,
    *,
    tenant: str,
    trigger_id: str,
    actions: Sequence[FlowAction],
    event: dict[str, Any],
    limits: Limits,
    deadline: float,
    handler: str | None = None,
) -> dict[str, Any]:
    """Run `actions` in order; `deadline` is a time.monotonic() instant for the whole flow."""
    handler = handler or TRIGGERS[trigger_id].handlers[0]
    status = SUCCESS
    effects: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for action in actions:
        if status != SUCCESS:
            records.append(_record(action, SKIPPED, None))
            continue
        left_s = deadline - time.monotonic()
        if left_s <= 0:
            outcome = ActionOutcome.failure(
                TIMEOUT, ACTION_TIMEOUT, "the flow deadline passed before this action started"
            )
        else:
            outcome = await pool.run(
                tenant,
                code_sha256=action.code_sha256,
                source=action.code,
                trigger_id=trigger_id,
                handler=handler,
                event=event,
                secrets=action.secrets,
                cache=action.cache,
                limits=dataclasses.replace(limits, timeout_s=min(limits.timeout_s, left_s)),
                action_key=f"{action.action_id}@{action.version}",
            )
        records.append(_record(action, outcome.status, outcome))
        if outcome.status not in (OK, DENIED):
            status = FAILED  # the failing action's own effects are discarded
            continue
        tagged = [{**e, "action": action.name, "version": action.version} for e in outcome.effects]
        effects.extend(tagged)
        if outcome.status == DENIED:
            status = FLOW_DENIED
        else:
            event = apply_to_event(event, outcome.effects)
    return {"trigger": trigger_id, "status": status, "effects": effects, "actions": records}
