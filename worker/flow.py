"""A trigger's flow: its bound actions run in binding order with Auth0's semantics.

Metadata an action sets (user and transaction) is visible in the event of the later ones.
`api.access.deny` and `api.validation.error` let the action finish and skip the rest (status
`denied`, with a `denial` saying which). `api.redirect.send_user_to` lets the action finish and
**pauses** the flow (status `redirect`; `api.prompt.render` likewise, status `prompt`): the
later actions are `pending`, and a continuation
(worker/consumer.py stores it) resumes at the redirecting action's `on_continue_*` handler,
then runs the rest. An error, timeout or memory limit fails the flow and skips the rest, while
effects of the actions before it still stand. Statuses come from the worker-checked effects.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.effect_totals import TRANSACTION_METADATA_LIMIT_BYTES, entry_bytes
from sandbox.effects import apply_to_event
from sandbox.limits import Limits
from sandbox.outcome import ACTION_ERROR, ACTION_TIMEOUT, DENIED, ERROR, OK, TIMEOUT, ActionOutcome
from sandbox.triggers import TRIGGERS

SUCCESS = "success"
FLOW_DENIED = "denied"
FAILED = "failed"
REDIRECT = "redirect"
PROMPT = "prompt"  # paused on api.prompt.render: the auth server shows the form, then continues
SKIPPED = "skipped"  # not run: the flow ended before it (or, continued, it has no on_continue)
PENDING = "pending"  # not run yet: the flow paused before it; a continuation runs it
REDIRECT_OP = "redirect.send_user_to"
PROMPT_OP = "prompt.render"
PRIMARY_USER_OP = "authentication.set_primary_user"  # Auth0: once per transaction
# Each continue adds records (with logs) to the stored state: an action that redirects from
# every on_continue would grow it without end, so one execution pauses at most this often.
MAX_PAUSES = 10


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


@dataclass(frozen=True)
class Resume:
    """Where a paused flow goes on: the redirecting action's index into the flow's actions,
    and the effects and action records of the flow up to and including that action."""

    position: int
    effects: list[dict[str, Any]]
    records: list[dict[str, Any]]


class Runner(Protocol):
    async def run(self, tenant: str, *, code_sha256: str, source: str, trigger_id: str,
                  handler: str, event: dict[str, Any], secrets: Mapping[str, str],
                  cache: Mapping[str, Any] | None, limits: Limits,
                  action_key: str = "") -> ActionOutcome: ...


def _record(action: FlowAction, status: str, outcome: ActionOutcome | None,
            handler: str | None = None) -> dict[str, Any]:
    return {
        "name": action.name,
        "version": action.version,
        "status": status,
        "handler": handler,
        "duration_ms": round(outcome.duration_ms, 3) if outcome else 0.0,
        "logs": outcome.logs if outcome else "",
        "error": outcome.error if outcome else None,
        "fetches": outcome.fetches if outcome else [],
    }


def with_tenant(event: dict[str, Any], tenant: str) -> dict[str, Any]:
    """`event.tenant.id` is the tenant the flow runs for, whatever the caller sent: it is the
    issuer of the action's redirect tokens."""
    section = event.get("tenant")
    return {**event, "tenant": {**(section if isinstance(section, dict) else {}), "id": tenant}}


def denial_of(action: FlowAction, effects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Who denied and why: `{"by": "access", "reason", ...}` for api.access.deny (with its
    other arguments), `{"by": "validation", "code", "message"}` for api.validation.error;
    the action's first such effect counts."""
    for effect in effects:
        if effect["op"] == "access.deny":
            return {"by": "access", "action": action.name, **effect["args"]}
        if effect["op"] == "validation.error":
            return {"by": "validation", "action": action.name, "code": effect["args"]["code"],
                    "message": effect["args"]["message"]}
    return None


def pause_of(effects: list[dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """Why the action pauses the flow, if it does: (REDIRECT, its last `send_user_to`: where
    the user goes) or (PROMPT, its last `prompt.render`: the form the user fills in)."""
    pausing = [e for e in effects if e["op"] in (REDIRECT_OP, PROMPT_OP)]
    if not pausing:
        return None
    last = pausing[-1]
    return (REDIRECT, dict(last["args"])) if last["op"] == REDIRECT_OP else (PROMPT, dict(last["args"]))


def continued_count(records: list[dict[str, Any]], continuation_handler: str) -> int:
    """How often this execution was continued so far (each continue calls one such handler)."""
    return sum(1 for record in records if record.get("handler") == continuation_handler)


def transaction_metadata_bytes(event: dict[str, Any]) -> int:
    """The size of `event.transaction.metadata` as the actions of this flow left it: each action
    is held to 16 KB by its own checks, the flow as a whole by this one (Auth0's limit)."""
    section = event.get("transaction")
    metadata = section.get("metadata") if isinstance(section, dict) else None
    if not isinstance(metadata, dict):
        return 0
    return sum(entry_bytes(str(key), value) for key, value in metadata.items())


def has_no_handler(outcome: ActionOutcome) -> bool:
    error = outcome.error or {}
    return (outcome.status == ERROR and error.get("class") == ACTION_ERROR
            and error.get("type") == "HandlerNotFound")


async def _run_one(pool: Runner, tenant: str, trigger_id: str, action: FlowAction, handler: str,
                   event: dict[str, Any], limits: Limits, deadline: float) -> ActionOutcome:
    left_s = deadline - time.monotonic()
    if left_s <= 0:
        return ActionOutcome.failure(
            TIMEOUT, ACTION_TIMEOUT, "the flow deadline passed before this action started")
    return await pool.run(
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
    resume: Resume | None = None,
) -> dict[str, Any]:
    """Run `actions` in order; `deadline` is a time.monotonic() instant for the whole flow.

    With `resume`, `actions` are the paused flow's (same versions) and running starts at
    `resume.position` with the trigger's continuation handler; an action that defines none
    is skipped, as in Auth0. A result with status `redirect` carries a private `pause`
    (position, event, effects, records, actions) to store, never to answer with.
    """
    trigger = TRIGGERS[trigger_id]
    default_handler = handler or trigger.handlers[0]
    first = 0 if resume is None else resume.position
    status = SUCCESS
    effects: list[dict[str, Any]] = [] if resume is None else list(resume.effects)
    records: list[dict[str, Any]] = [] if resume is None else list(resume.records)
    event = with_tenant(event, tenant)
    extra: dict[str, Any] = {}
    for index in range(first, len(actions)):
        action = actions[index]
        if status != SUCCESS:
            records.append(_record(action, PENDING if status in (REDIRECT, PROMPT) else SKIPPED,
                                   None))
            continue
        continuing = resume is not None and index == first
        this_handler = trigger.handlers[-1] if continuing else default_handler
        outcome = await _run_one(pool, tenant, trigger_id, action, this_handler, event, limits,
                                 deadline)
        if continuing and has_no_handler(outcome):
            records.append({**_record(action, SKIPPED, outcome, this_handler), "error": None})
            continue
        records.append(_record(action, outcome.status, outcome, this_handler))
        if outcome.status not in (OK, DENIED):
            status = FAILED  # the failing action's own effects are discarded
            continue
        effects.extend({**e, "action": action.name, "version": action.version}
                       for e in outcome.effects)
        if outcome.status == DENIED:  # a deny wins over a redirect of the same action
            status = FLOW_DENIED
            extra["denial"] = denial_of(action, outcome.effects)
            continue
        event = apply_to_event(event, outcome.effects)
        pause = pause_of(outcome.effects)
        refusal = None
        if pause is not None and len({e["op"] for e in outcome.effects} & {
                REDIRECT_OP, PROMPT_OP}) > 1:
            refusal = ("RedirectAndPrompt", "an action can redirect the user or render a prompt, "
                       "not both (as in Auth0): use two actions")
        elif pause is not None and continued_count(records, trigger.handlers[-1]) >= MAX_PAUSES:
            refusal = ("TooManyRedirects", f"the flow was continued {MAX_PAUSES} times and "
                       f"redirected again; one execution pauses at most {MAX_PAUSES} times")
        elif any(e["op"] == PRIMARY_USER_OP for e in outcome.effects) and any(
                e["op"] == PRIMARY_USER_OP for e in effects[:len(effects) - len(outcome.effects)]):
            refusal = ("PrimaryUserAlreadySet", "an earlier action of this flow already called "
                       "api.authentication.set_primary_user; it can be called once per "
                       "transaction")
        elif transaction_metadata_bytes(event) > TRANSACTION_METADATA_LIMIT_BYTES:
            refusal = ("TransactionMetadataTooLarge", "transaction metadata of this flow is over "
                       f"{TRANSACTION_METADATA_LIMIT_BYTES} bytes")
        if refusal is not None:  # the action ran, but the flow cannot take what it did
            effects = effects[:len(effects) - len(outcome.effects)]
            records[-1] = {**records[-1], "status": ERROR, "error": {
                "class": ACTION_ERROR, "type": refusal[0], "message": refusal[1], "line": None}}
            status = FAILED
            continue
        if pause is not None:
            status = pause[0]
            extra.update({status: pause[1]}, continuation=None, pause={
                "position": index, "event": event, "effects": list(effects),
                "records": list(records), "actions": [
                    {"action_id": a.action_id, "name": a.name, "version": a.version}
                    for a in actions]})
    return {"trigger": trigger_id, "status": status, "effects": effects, "actions": records,
            **extra}
