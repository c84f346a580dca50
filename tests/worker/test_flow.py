"""Flow semantics (Auth0's) with real sandbox children: order, metadata, deny, validation
error, redirect pause and resume, failure, deadline."""
from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.limits import Limits
from tests.worker.poolkit import action, sha
from worker.flow import MAX_PAUSES, FlowAction, Resume, run_flow
from worker.pool import SandboxPool

EVENT = {"user": {"user_id": "auth0|1", "email": "ada@example.com", "app_metadata": {}}}


def bound(name: str, body: str, version: int | None = 1, **secrets: str) -> FlowAction:
    code = action(body)
    return FlowAction(action_id=f"id-{name}", name=name, version=version, code=code,
                      code_sha256=sha(code), secrets=secrets, cache={})


async def flow(pool: SandboxPool, actions: list[FlowAction], *, deadline_s: float = 20.0,
               limits: Limits | None = None) -> dict[str, Any]:
    return await run_flow(pool, tenant="acme", trigger_id="post-login", actions=actions,
                          event=EVENT, limits=limits or Limits(),
                          deadline=time.monotonic() + deadline_s)


def statuses(result: dict[str, Any]) -> list[str]:
    return [a["status"] for a in result["actions"]]


SET_PLAN = bound("set-plan", "api.user.set_app_metadata('plan', 'gold')")
READ_PLAN = bound("read-plan", "api.id_token.set_custom_claim('plan', event.user.app_metadata['plan'])", 3)
DENY = bound("deny", "api.id_token.set_custom_claim('before', 1)\napi.access.deny('blocked')\nprint('after deny')")
BOOM = bound("boom", "api.id_token.set_custom_claim('lost', 1)\nraise ValueError('boom')")
LOOP = bound("loop", "while True:\n    pass")


async def test_no_actions_is_success(pool: SandboxPool) -> None:
    assert await flow(pool, []) == {"trigger": "post-login", "status": "success",
                                    "effects": [], "actions": []}


async def test_metadata_is_visible_to_later_actions(pool: SandboxPool) -> None:
    result = await flow(pool, [SET_PLAN, READ_PLAN])
    assert result["status"] == "success"
    assert result["effects"] == [
        {"op": "user.set_app_metadata", "args": {"name": "plan", "value": "gold"},
         "action": "set-plan", "version": 1},
        {"op": "id_token.set_custom_claim", "args": {"name": "plan", "value": "gold"},
         "action": "read-plan", "version": 3},
    ]
    assert statuses(result) == ["ok", "ok"]
    assert [a["name"] for a in result["actions"]] == ["set-plan", "read-plan"]


async def test_deny_finishes_the_action_and_skips_the_rest(pool: SandboxPool) -> None:
    result = await flow(pool, [SET_PLAN, DENY, READ_PLAN])
    assert result["status"] == "denied"
    assert [(e["op"], e["action"]) for e in result["effects"]] == [
        ("user.set_app_metadata", "set-plan"), ("id_token.set_custom_claim", "deny"),
        ("access.deny", "deny")]
    assert statuses(result) == ["ok", "denied", "skipped"]
    assert result["actions"][1]["logs"] == "after deny\n"
    assert result["actions"][2] == {"name": "read-plan", "version": 3, "status": "skipped",
                                    "handler": None, "duration_ms": 0.0, "logs": "",
                                    "error": None, "fetches": []}
    assert result["actions"][1]["handler"] == "on_execute_post_login"
    assert result["denial"] == {"by": "access", "action": "deny", "reason": "blocked"}


async def test_error_fails_the_flow_keeping_earlier_effects(pool: SandboxPool) -> None:
    result = await flow(pool, [SET_PLAN, BOOM, READ_PLAN])
    assert result["status"] == "failed"
    assert [e["action"] for e in result["effects"]] == ["set-plan"]  # boom's own are discarded
    assert statuses(result) == ["ok", "error", "skipped"]
    error = result["actions"][1]["error"]
    assert (error["class"], error["type"], error["message"], error["line"]) == (
        "action_error", "ValueError", "boom", 3)


@pytest.mark.parametrize(("deadline_s", "timeout_s"), [(20.0, 0.3), (0.3, 5.0)],
                         ids=["action limit", "flow deadline"])
async def test_timeout_fails_the_flow(pool: SandboxPool, deadline_s: float,
                                      timeout_s: float) -> None:
    started = time.monotonic()
    result = await flow(pool, [SET_PLAN, LOOP, READ_PLAN], deadline_s=deadline_s,
                        limits=Limits(timeout_s=timeout_s))
    assert time.monotonic() - started < 0.3 + pool.grace_s + 2.0  # min(limit, time left) applied
    assert result["status"] == "failed"
    assert statuses(result) == ["ok", "timeout", "skipped"]
    assert result["actions"][1]["error"]["class"] == "action_timeout"
    assert [e["action"] for e in result["effects"]] == ["set-plan"]


async def test_deadline_passed_before_an_action_starts(pool: SandboxPool) -> None:
    result = await flow(pool, [SET_PLAN, READ_PLAN], deadline_s=-1.0)
    assert result["status"] == "failed"
    assert statuses(result) == ["timeout", "skipped"]
    assert result["actions"][0]["error"] == {
        "class": "action_timeout", "type": None, "line": None,
        "message": "the flow deadline passed before this action started"}
    assert result["effects"] == []
    assert pool.stats.runs == 0  # nothing was sent to a child


async def test_memory_limit_fails_the_flow(pool: SandboxPool) -> None:
    hog = bound("hog", "x = []\nwhile True:\n    x.append('a' * 1000)")
    result = await flow(pool, [hog, SET_PLAN])
    assert result["status"] == "failed"
    assert statuses(result) == ["memory_limit", "skipped"]


async def test_secrets_are_per_action(pool: SandboxPool) -> None:
    first = bound("first", "api.id_token.set_custom_claim('k', event.secrets.KEY)", KEY="one")
    second = bound("second", "api.access_token.set_custom_claim('k', event.secrets.KEY)", KEY="two")
    result = await flow(pool, [first, second])
    assert [e["args"]["value"] for e in result["effects"]] == ["one", "two"]


async def test_continuation_handler(pool: SandboxPool) -> None:
    code = ("def on_execute_post_login(event, api):\n    api.access.deny('wrong handler')\n"
            "def on_continue_post_login(event, api):\n    api.id_token.set_custom_claim('c', 1)\n")
    cont = FlowAction(action_id="c", name="cont", version=2, code=code, code_sha256=sha(code),
                      secrets={}, cache={})
    result = await run_flow(pool, tenant="acme", trigger_id="post-login", actions=[cont],
                            event=EVENT, limits=Limits(), deadline=time.monotonic() + 5,
                            handler="on_continue_post_login")
    assert result["status"] == "success"
    assert [e["op"] for e in result["effects"]] == ["id_token.set_custom_claim"]


async def test_validation_error_denies_and_says_so(pool: SandboxPool) -> None:
    invalid = bound("check", "api.validation.error('weak_password', 'too short')\nprint('done')")
    result = await flow(pool, [SET_PLAN, invalid, READ_PLAN])
    assert result["status"] == "denied"
    assert statuses(result) == ["ok", "denied", "skipped"]
    assert result["denial"] == {"by": "validation", "action": "check",
                                "code": "weak_password", "message": "too short"}
    assert result["actions"][1]["logs"] == "done\n"


async def test_transaction_metadata_is_visible_to_later_actions(pool: SandboxPool) -> None:
    tag = bound("tag", "api.transaction.set_metadata('risk', 'low')")
    read = bound("read", "api.id_token.set_custom_claim('risk', event.transaction.metadata.risk)")
    result = await flow(pool, [tag, read])
    assert result["status"] == "success"
    assert result["effects"][1]["args"] == {"name": "risk", "value": "low"}


async def test_the_primary_user_is_set_once_per_flow(pool: SandboxPool) -> None:
    # Red team: each action was held to one set_primary_user, the flow to none, so two
    # actions answered the auth server with two primary users.
    first = bound("first", "api.authentication.set_primary_user('auth0|1')")
    second = bound("second", "api.authentication.set_primary_user('auth0|2')")
    after = bound("after", "api.id_token.set_custom_claim('ran', 1)")
    result = await flow(pool, [first, second, after])
    assert statuses(result) == ["ok", "error", "skipped"]
    assert result["actions"][1]["error"]["type"] == "PrimaryUserAlreadySet"
    assert [(e["action"], e["args"]) for e in result["effects"]] == [
        ("first", {"primary_user_id": "auth0|1"})]


async def test_transaction_metadata_is_held_to_16_kb_across_the_flow(pool: SandboxPool) -> None:
    # Each action stays under its own 16 KB; together they pass the flow's limit.
    fill = "for i in range(3):\n    api.transaction.set_metadata('{}' + str(i), 'x' * 5000)"
    first, second = bound("first", fill.format("a")), bound("second", fill.format("b"))
    after = bound("after", "api.id_token.set_custom_claim('ran', 1)")
    result = await flow(pool, [first, second, after])
    assert statuses(result) == ["ok", "error", "skipped"]
    assert result["actions"][1]["error"]["type"] == "TransactionMetadataTooLarge"
    assert [e["action"] for e in result["effects"]] == ["first"] * 3
    alone = await flow(pool, [first, after])
    assert statuses(alone) == ["ok", "ok"]


async def test_the_worker_sets_event_tenant_id(pool: SandboxPool) -> None:
    echo = bound("echo", "api.id_token.set_custom_claim('t', event.tenant.id)")
    result = await run_flow(pool, tenant="acme", trigger_id="post-login", actions=[echo],
                            event={**EVENT, "tenant": {"id": "forged", "x": 1}},
                            limits=Limits(), deadline=time.monotonic() + 5)
    assert result["effects"][0]["args"] == {"name": "t", "value": "acme"}


REDIRECTING = ("def on_execute_post_login(event, api):\n"
               "    api.user.set_app_metadata('step', 1)\n"
               "    api.redirect.send_user_to('https://consent.example/', {'a': 1})\n"
               "def on_continue_post_login(event, api):\n"
               "    api.id_token.set_custom_claim('answer', event.request.query.answer)\n"
               "    api.id_token.set_custom_claim('step', event.user.app_metadata.step)\n")


def coded(name: str, code: str, version: int = 1) -> FlowAction:
    return FlowAction(action_id=f"id-{name}", name=name, version=version, code=code,
                      code_sha256=sha(code), secrets={}, cache={})


async def resumed(pool: SandboxPool, actions: list[FlowAction], paused: dict[str, Any],
                  event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Continue the flow `paused` (a result with a pause), as a continue job does."""
    pause = paused["pause"]
    return await run_flow(pool, tenant="acme", trigger_id="post-login", actions=actions,
                          event=pause["event"] if event is None else event, limits=Limits(),
                          deadline=time.monotonic() + 20,
                          resume=Resume(pause["position"], pause["effects"], pause["records"]))


REDIRECTS_AGAIN = coded("again", "def on_execute_post_login(event, api):\n"
                        "    api.redirect.send_user_to('https://one.example/')\n"
                        "def on_continue_post_login(event, api):\n"
                        "    api.redirect.send_user_to('https://two.example/')\n")


async def test_redirect_pauses_the_flow(pool: SandboxPool) -> None:
    result = await flow(pool, [SET_PLAN, coded("consent", REDIRECTING, 4), READ_PLAN])
    assert result["status"] == "redirect"
    assert statuses(result) == ["ok", "ok", "pending"]
    assert result["redirect"] == {"url": "https://consent.example/", "query": {"a": 1}}
    assert result["continuation"] is None  # the gateway puts the token in
    assert [e["action"] for e in result["effects"]] == ["set-plan", "consent", "consent"]
    pause = result["pause"]
    assert pause["position"] == 1
    assert pause["event"]["user"]["app_metadata"] == {"plan": "gold", "step": 1}
    assert pause["effects"] == result["effects"]
    assert [r["name"] for r in pause["records"]] == ["set-plan", "consent"]
    assert pause["actions"] == [{"action_id": "id-set-plan", "name": "set-plan", "version": 1},
                                {"action_id": "id-consent", "name": "consent", "version": 4},
                                {"action_id": "id-read-plan", "name": "read-plan", "version": 3}]


async def test_resume_runs_on_continue_then_the_rest(pool: SandboxPool) -> None:
    actions = [SET_PLAN, coded("consent", REDIRECTING, 4), READ_PLAN]
    paused = await flow(pool, actions)
    event = {**paused["pause"]["event"], "request": {"query": {"answer": "yes"}, "body": {}}}
    result = await resumed(pool, actions, paused, event)
    assert result["status"] == "success"
    assert "pause" not in result and "redirect" not in result
    assert [(r["name"], r["status"], r["handler"]) for r in result["actions"]] == [
        ("set-plan", "ok", "on_execute_post_login"), ("consent", "ok", "on_execute_post_login"),
        ("consent", "ok", "on_continue_post_login"), ("read-plan", "ok", "on_execute_post_login")]
    assert [(e["op"], e["action"]) for e in result["effects"]] == [  # before and after the pause
        ("user.set_app_metadata", "set-plan"), ("user.set_app_metadata", "consent"),
        ("redirect.send_user_to", "consent"), ("id_token.set_custom_claim", "consent"),
        ("id_token.set_custom_claim", "consent"), ("id_token.set_custom_claim", "read-plan")]
    claims = [e["args"] for e in result["effects"] if e["op"] == "id_token.set_custom_claim"]
    assert claims == [{"name": "answer", "value": "yes"}, {"name": "step", "value": 1},
                      {"name": "plan", "value": "gold"}]


async def test_resume_skips_an_action_without_on_continue(pool: SandboxPool) -> None:
    plain = coded("plain", "def on_execute_post_login(event, api):\n"
                  "    api.redirect.send_user_to('https://x.example/')\n")
    actions = [plain, SET_PLAN]
    paused = await flow(pool, actions)
    assert paused["status"] == "redirect"
    result = await resumed(pool, actions, paused)
    assert result["status"] == "success"
    assert [(r["status"], r["handler"], r["error"]) for r in result["actions"]] == [
        ("ok", "on_execute_post_login", None), ("skipped", "on_continue_post_login", None),
        ("ok", "on_execute_post_login", None)]


async def test_redirect_again_from_on_continue_pauses_again(pool: SandboxPool) -> None:
    actions = [REDIRECTS_AGAIN, READ_PLAN]
    result = await resumed(pool, actions, await flow(pool, actions))
    assert result["status"] == "redirect"
    assert result["redirect"] == {"url": "https://two.example/", "query": None}
    assert statuses(result) == ["ok", "ok", "pending"]
    assert result["pause"]["position"] == 0
    assert len(result["pause"]["records"]) == 2


async def test_deny_wins_over_a_redirect(pool: SandboxPool) -> None:
    both = bound("both", "api.redirect.send_user_to('https://x.example/')\napi.access.deny('no')")
    result = await flow(pool, [both, READ_PLAN])
    assert result["status"] == "denied"
    assert "pause" not in result
    assert statuses(result) == ["denied", "skipped"]


async def test_an_execution_pauses_at_most_max_pauses_times(pool: SandboxPool) -> None:
    actions = [REDIRECTS_AGAIN, READ_PLAN]
    result = await flow(pool, actions)
    for _ in range(MAX_PAUSES):
        assert result["status"] == "redirect"
        result = await resumed(pool, actions, result)
    assert result["status"] == "failed" and "pause" not in result
    assert result["actions"][-2]["error"]["type"] == "TooManyRedirects"
    assert statuses(result)[-2:] == ["error", "skipped"]
    # The refused redirect is not among the effects: the first MAX_PAUSES are.
    assert sum(e["op"] == "redirect.send_user_to" for e in result["effects"]) == MAX_PAUSES
