"""The shipped examples: every one compiles under the action policy and, run on its example event
through the real sandbox (sandbox.execute), produces exactly the documented effects."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.compiler import compile_action
from sandbox.execute import run_action
from sandbox.limits import Limits
from sandbox.triggers import TRIGGERS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _event(trigger: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / "events" / f"{trigger}.json").read_text())
    return loaded


def _run(trigger: str, handler: str, event: dict[str, Any], secrets: dict[str, str] | None = None,
         cache: dict[str, Any] | None = None) -> Any:
    path = EXAMPLES / "actions" / f"{trigger}.py"
    compiled = compile_action(path.read_text(), str(path))
    assert compiled.ok, compiled.errors
    return run_action(compiled.code, trigger_id=trigger, handler=handler, event=event,
                      secrets=secrets or {}, cache=cache or {}, limits=Limits())


def test_one_example_action_and_event_per_trigger() -> None:
    assert {p.stem for p in (EXAMPLES / "actions").glob("*.py")} == set(TRIGGERS)
    assert {p.stem for p in (EXAMPLES / "events").glob("*.json")} == set(TRIGGERS)
    for trigger in TRIGGERS:
        assert "secrets" not in _event(trigger)  # the CLI passes secrets with --secret


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_example_compiles_and_defines_its_handler(trigger: str) -> None:
    source = (EXAMPLES / "actions" / f"{trigger}.py").read_text()
    result = compile_action(source, f"{trigger}.py")
    assert result.ok and result.errors == ()
    assert f"def {TRIGGERS[trigger].handlers[0]}(event, api):" in source


ROLES = "https://my-app.example.com/roles"
EXPECTED = {
    "post-login": ("ok", [
        {"op": "id_token.set_custom_claim", "args": {"name": ROLES, "value": ["admin", "editor"]}},
        {"op": "access_token.set_custom_claim", "args": {"name": ROLES, "value": ["admin", "editor"]}},
        {"op": "multifactor.enable", "args": {"provider": "any", "allow_remember_browser": False,
                                              "provider_options": None}},
    ], "login auth0|65a1f0c2d4e8b9a7c3f10001 roles: admin, editor\n"),
    "credentials-exchange": ("ok", [
        {"op": "access_token.set_custom_claim", "args": {"name": "custom_claim", "value": "custom_value"}},
    ], ""),
    "pre-user-registration": ("ok", [
        {"op": "user.set_user_metadata", "args": {"name": "ui_color", "value": "default"}},
        {"op": "user.set_user_metadata", "args": {"name": "use_verbose_messages", "value": False}},
        {"op": "user.set_app_metadata", "args": {"name": "is_new_user", "value": True}},
        {"op": "user.set_app_metadata", "args": {"name": "reward_status", "value": 0}},
    ], ""),
    "post-user-registration": ("ok", [
        {"op": "cache.set", "args": {"key": "welcome-email:auth0|65a1f0c2d4e8b9a7c3f10002",
                                     "value": {"email": "grace.hopper@example.com",
                                               "name": "Grace Hopper"}, "ttl": None,
                                     "expires_at": None}},
    ], "would send welcome email to grace.hopper@example.com for Grace Hopper\n"),
    "post-change-password": ("ok", [
        {"op": "cache.set", "args": {"key": "password-changed:auth0|65a1f0c2d4e8b9a7c3f10001",
                                     "value": {"email": "ada.lovelace@example.com",
                                               "ip": "203.0.113.24"}, "ttl": 86_400_000,
                                     "expires_at": None}},
    ], "would notify ada.lovelace@example.com that their password was changed\n"),
    "send-phone-message": ("ok", [
        {"op": "cache.set", "args": {"key": "sms-count:+15555550101", "value": 1,
                                     "ttl": 3_600_000, "expires_at": None}},
    ], "would send sms to +15555550101 - 32 characters\n"),
    "password-reset-post-challenge": ("ok", [
        {"op": "redirect.send_user_to",
         "args": {"url": "https://account.example.com/password-reset/confirm",
                  "query": {"user_id": "auth0|65a1f0c2d4e8b9a7c3f10001"}}},
    ], ""),
}


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_example_runs_on_its_event(trigger: str) -> None:
    outcome = _run(trigger, TRIGGERS[trigger].handlers[0], _event(trigger))
    assert (outcome.status, outcome.effects, outcome.logs) == EXPECTED[trigger]
    assert outcome.error is None


def _with(trigger: str, path: str, value: Any) -> dict[str, Any]:
    event = copy.deepcopy(_event(trigger))
    *parents, last = path.split(".")
    target = event
    for part in parents:
        target = target[part]
    target[last] = value
    return event


def test_pre_user_registration_denies_disposable_domains() -> None:
    event = _with("pre-user-registration", "user.email", "x@Mailinator.com")
    outcome = _run("pre-user-registration", "on_execute_pre_user_registration", event)
    assert (outcome.status, outcome.effects) == ("denied", [
        {"op": "access.deny", "args": {"reason": "disposable email domain: mailinator.com",
                                       "user_message": "Please sign up with a permanent email address."}}])


def test_credentials_exchange_refuses_writes_from_other_clients() -> None:
    event = _with("credentials-exchange", "client.client_id", "someone-else")
    outcome = _run("credentials-exchange", "on_execute_credentials_exchange", event)
    assert (outcome.status, outcome.effects) == ("denied", [
        {"op": "access.deny", "args": {"code": "invalid_scope",
                                       "reason": "only the reporting job may write reports"}}])


def test_post_login_without_roles() -> None:
    event = _with("post-login", "authorization", None)
    outcome = _run("post-login", "on_execute_post_login", event)
    assert outcome.effects == [
        {"op": "id_token.set_custom_claim", "args": {"name": ROLES, "value": []}},
        {"op": "access_token.set_custom_claim", "args": {"name": ROLES, "value": []}}]


def test_password_reset_uses_the_secret_and_challenges_unverified_users() -> None:
    trigger, handler = "password-reset-post-challenge", "on_execute_post_challenge"
    outcome = _run(trigger, handler, _event(trigger),
                   secrets={"RESET_PORTAL_URL": "https://portal.example.org/r"})
    assert outcome.effects[0]["args"]["url"] == "https://portal.example.org/r"
    outcome = _run(trigger, handler, _with(trigger, "user.email_verified", False))
    assert outcome.effects == [
        {"op": "authentication.challenge_with",
         "args": {"factor": {"type": "email"}, "additional_factors": None}}]
    outcome = _run(trigger, "on_continue_post_challenge", _event(trigger))
    assert (outcome.status, outcome.effects) == ("ok", [])
    assert outcome.logs == "user auth0|65a1f0c2d4e8b9a7c3f10001 came back from the reset portal\n"


def test_send_phone_message_counts_from_the_cache() -> None:
    outcome = _run("send-phone-message", "on_execute_send_phone_message",
                   _event("send-phone-message"),
                   cache={"sms-count:+15555550101": {"value": 4, "expires_at": None}})
    assert outcome.effects == [{"op": "cache.set", "args": {
        "key": "sms-count:+15555550101", "value": 5, "ttl": 3_600_000, "expires_at": None}}]
    assert "123456" not in outcome.logs
