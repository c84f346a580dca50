"""Redirect and continue through the whole service: the flow pauses, a continuation resumes it
exactly once, and every used, expired, foreign or forged continuation is refused."""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable

import redis

from tests.conftest import RedisServer
from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Reply, Service

CLAIM = "def on_execute_post_login(event, api):\n    api.id_token.set_custom_claim('{0}', 1)\n"
CONSENT = ("def on_execute_post_login(event, api):\n"
           "    api.user.set_app_metadata('asked', True)\n"
           "    api.redirect.send_user_to('https://consent.example.com/', {'lang': 'en'})\n"
           "def on_continue_post_login(event, api):\n"
           "    api.id_token.set_custom_claim('consent', event.request.query.answer)\n"
           "    api.id_token.set_custom_claim('form', event.request.body.note)\n"
           "    api.id_token.set_custom_claim('asked', event.user.app_metadata.asked)\n")
SECRET = "s" * 40
SIGNED = ("def on_execute_post_login(event, api):\n"
          "    token = api.redirect.encode_token(event.secrets.KEY, {'plan': 'gold'}, 300)\n"
          "    api.redirect.send_user_to('https://idv.example.com/', {'session_token': token})\n"
          "def on_continue_post_login(event, api):\n"
          "    try:\n"
          "        payload = api.redirect.validate_token(event.secrets.KEY)\n"
          "    except ValueError as exc:\n"
          "        api.access.deny(str(exc))\n"
          "        return\n"
          "    api.id_token.set_custom_claim('plan', payload['plan'])\n")


def paused(service: Service, tenant: dict, names: list[str]) -> Reply:
    bind(service, tenant, "post-login", names)
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200, reply
    assert reply.body["status"] == "redirect", reply.body
    return reply


def resume(service: Service, tenant: dict, execution_id: str, body: dict,
           token: str | None = None) -> Reply:
    return service.request("POST", f"/v1/tenants/{tenant['id']}/executions/{execution_id}/continue",
                           body, token=token or tenant["execution_token"])


def record(service: Service, tenant: dict, execution_id: str) -> dict:
    reply = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/{execution_id}",
                            token=tenant["execution_token"])
    assert reply.status == 200, reply
    return reply.body


def test_redirect_pauses_and_continue_runs_the_rest(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "first", CLAIM.format("first"))
    deploy_and_bind(service, tenant, "consent", CONSENT)
    deploy_and_bind(service, tenant, "later", CLAIM.format("later"))
    first = paused(service, tenant, ["first", "consent", "later"])
    body = first.body
    assert body["redirect"] == {"url": "https://consent.example.com/", "query": {"lang": "en"}}
    assert isinstance(body["continuation"], str) and len(body["continuation"]) >= 40
    assert "pause" not in body
    assert [(a["name"], a["status"]) for a in body["actions"]] == [
        ("first", "ok"), ("consent", "ok"), ("later", "pending")]
    assert [e["op"] for e in body["effects"]] == [
        "id_token.set_custom_claim", "user.set_app_metadata", "redirect.send_user_to"]
    stored = record(service, tenant, body["execution_id"])
    assert (stored["status"], stored["continuation"]) == ("redirect", None)  # token: answer only

    done = resume(service, tenant, body["execution_id"], {
        "continuation": body["continuation"], "query": {"answer": "yes"}, "body": {"note": "ok"}})
    assert done.status == 200, done
    assert done.body["status"] == "success"
    assert done.body["execution_id"] == body["execution_id"]
    assert [(e["action"], e["op"], e["args"].get("name")) for e in done.body["effects"]] == [
        ("first", "id_token.set_custom_claim", "first"),
        ("consent", "user.set_app_metadata", "asked"),
        ("consent", "redirect.send_user_to", None),
        ("consent", "id_token.set_custom_claim", "consent"),
        ("consent", "id_token.set_custom_claim", "form"),
        ("consent", "id_token.set_custom_claim", "asked"),
        ("later", "id_token.set_custom_claim", "later")]
    values = [e["args"].get("value") for e in done.body["effects"][3:6]]
    assert values == ["yes", "ok", True]
    assert [(a["name"], a["status"], a["handler"]) for a in done.body["actions"]] == [
        ("first", "ok", "on_execute_post_login"), ("consent", "ok", "on_execute_post_login"),
        ("consent", "ok", "on_continue_post_login"), ("later", "ok", "on_execute_post_login")]
    final = record(service, tenant, body["execution_id"])
    assert (final["status"], final["state"]) == ("success", "final")
    assert final["effects"] == done.body["effects"]

    again = resume(service, tenant, body["execution_id"], {"continuation": body["continuation"]})
    assert (again.status, again.body["error"]["code"]) == (409, "continuation_used")


def test_continue_runs_the_versions_it_paused_with(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "consent", CONSENT)
    later = deploy_and_bind(service, tenant, "later", CLAIM.format("v1"))
    first = paused(service, tenant, ["consent", "later"])
    base = f"/v1/tenants/{tenant['id']}/actions/{later['id']}"
    token = tenant["management_token"]
    assert service.request("PATCH", base, {"code": CLAIM.format("v2")}, token=token).status == 200
    assert service.request("POST", f"{base}/deploy", token=token).status == 201
    done = resume(service, tenant, first.body["execution_id"], {
        "continuation": first.body["continuation"], "query": {"answer": "no"}})
    assert done.status == 200, done
    assert done.body["effects"][-1]["args"]["name"] == "v1"
    assert done.body["effects"][-1]["version"] == 1


def test_two_concurrent_continues_run_it_once(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "consent", CONSENT)
    deploy_and_bind(service, tenant, "later", CLAIM.format("later"))
    first = paused(service, tenant, ["consent", "later"])
    replies: list[Reply] = []
    start = threading.Barrier(2)

    def call() -> None:
        start.wait()
        replies.append(resume(service, tenant, first.body["execution_id"], {
            "continuation": first.body["continuation"], "query": {"answer": "yes"}}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in replies) == [200, 409]
    [won] = [r for r in replies if r.status == 200]
    [lost] = [r for r in replies if r.status == 409]
    assert lost.body["error"]["code"] == "continuation_used"
    assert [e["action"] for e in won.body["effects"]].count("later") == 1


def test_foreign_forged_and_malformed_continuations(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "consent", CONSENT)
    first = paused(service, tenant, ["consent"]).body
    other = service.tenant(tenant["id"] + "-other")
    # Another tenant's path and token with this tenant's execution and continuation.
    foreign = resume(service, other, first["execution_id"], {"continuation": first["continuation"]})
    assert (foreign.status, foreign.body["error"]["code"]) == (404, "continuation_not_found")
    # This tenant's path with another tenant's token: the token does not open this tenant.
    crossed = resume(service, tenant, first["execution_id"], {"continuation": first["continuation"]},
                     token=other["execution_token"])
    assert crossed.status in (401, 404), crossed
    forged = resume(service, tenant, first["execution_id"], {"continuation": "x" * 43})
    assert (forged.status, forged.body["error"]["code"]) == (404, "continuation_not_found")
    unknown = resume(service, tenant, "0" * 32, {"continuation": first["continuation"]})
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "continuation_not_found")
    odd = resume(service, tenant, "not-an-execution", {"continuation": first["continuation"]})
    assert (odd.status, odd.body["error"]["code"]) == (404, "continuation_not_found")
    for body, code in (({}, "missing_field"),
                       ({"continuation": 5}, "invalid_continuation"),
                       ({"continuation": ""}, "invalid_continuation"),
                       ({"continuation": "t", "extra": 1}, "unknown_field"),
                       ({"continuation": "t", "query": ["a"]}, "invalid_continue_query"),
                       ({"continuation": "t", "query": {"a": 1}}, "invalid_continue_query"),
                       ({"continuation": "t", "query": {"a": "x" * 9000}}, "invalid_continue_query"),
                       ({"continuation": "t", "body": "text"}, "invalid_continue_body")):
        reply = resume(service, tenant, first["execution_id"], body)
        assert (reply.status, reply.body["error"]["code"]) == (422, code), body
    bad_json = service.request("POST", f"/v1/tenants/{tenant['id']}/executions/"
                               f"{first['execution_id']}/continue", raw=b"{nope",
                               token=tenant["execution_token"],
                               headers={"Content-Type": "application/json"})
    assert (bad_json.status, bad_json.body["error"]["code"]) == (400, "malformed_body")
    # None of that used the continuation up.
    done = resume(service, tenant, first["execution_id"], {
        "continuation": first["continuation"], "query": {"answer": "late"}})
    assert (done.status, done.body["status"]) == (200, "success"), done


def test_an_expired_continuation_is_gone(service: Service, tenant: dict,
                                          redis_server: RedisServer) -> None:
    deploy_and_bind(service, tenant, "consent", CONSENT)
    first = paused(service, tenant, ["consent"]).body
    client = redis.Redis(port=redis_server.port, db=1)
    meta = f"ar:t:{tenant['id']}:cont:{first['execution_id']}"
    assert client.hget(meta, "used") == b"0"
    client.hset(meta, "expires_at_ms", str(int(time.time() * 1000) - 1))  # an hour later
    client.close()
    late = resume(service, tenant, first["execution_id"], {"continuation": first["continuation"]})
    assert (late.status, late.body["error"]["code"]) == (410, "continuation_expired")


def test_a_redirect_from_on_continue_pauses_again(service: Service, tenant: dict) -> None:
    twice = ("def on_execute_post_login(event, api):\n"
             "    api.redirect.send_user_to('https://one.example.com/')\n"
             "def on_continue_post_login(event, api):\n"
             "    if event.request.query.step == '1':\n"
             "        api.redirect.send_user_to('https://two.example.com/')\n"
             "    else:\n"
             "        api.id_token.set_custom_claim('steps', 2)\n")
    deploy_and_bind(service, tenant, "twice", twice)
    deploy_and_bind(service, tenant, "later", CLAIM.format("later"))
    first = paused(service, tenant, ["twice", "later"]).body
    second = resume(service, tenant, first["execution_id"], {
        "continuation": first["continuation"], "query": {"step": "1"}})
    assert second.status == 200, second
    assert second.body["status"] == "redirect"
    assert second.body["redirect"]["url"] == "https://two.example.com/"
    assert second.body["continuation"] not in (None, first["continuation"])
    assert [a["status"] for a in second.body["actions"]] == ["ok", "ok", "pending"]
    old = resume(service, tenant, first["execution_id"], {"continuation": first["continuation"]})
    assert (old.status, old.body["error"]["code"]) == (409, "continuation_used")
    third = resume(service, tenant, first["execution_id"], {
        "continuation": second.body["continuation"], "query": {"step": "2"}})
    assert third.status == 200, third
    assert third.body["status"] == "success"
    assert [e["op"] for e in third.body["effects"]] == [
        "redirect.send_user_to", "redirect.send_user_to", "id_token.set_custom_claim",
        "id_token.set_custom_claim"]
    assert [a["handler"] for a in third.body["actions"]] == [
        "on_execute_post_login", "on_continue_post_login", "on_continue_post_login",
        "on_execute_post_login"]


def test_a_redirecting_action_without_on_continue_is_skipped(service: Service,
                                                             tenant: dict) -> None:
    deploy_and_bind(service, tenant, "away", "def on_execute_post_login(event, api):\n"
                    "    api.redirect.send_user_to('https://away.example.com/')\n")
    deploy_and_bind(service, tenant, "later", CLAIM.format("later"))
    first = paused(service, tenant, ["away", "later"]).body
    done = resume(service, tenant, first["execution_id"], {"continuation": first["continuation"]})
    assert done.body["status"] == "success", done.body
    assert [(a["name"], a["status"]) for a in done.body["actions"]] == [
        ("away", "ok"), ("away", "skipped"), ("later", "ok")]


def test_signed_token_round_trip(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "idv", SIGNED, secrets=[{"name": "KEY", "value": SECRET}])
    first = paused(service, tenant, ["idv"]).body
    token = first["redirect"]["query"]["session_token"]
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "HS256"
    assert claims["iss"] == tenant["id"]
    assert claims["sub"] == LOGIN_EVENT["user"]["user_id"]
    assert claims["plan"] == "gold"
    assert claims["exp"] - claims["iat"] == 300
    done = resume(service, tenant, first["execution_id"], {
        "continuation": first["continuation"], "query": {"session_token": token}})
    assert done.body["status"] == "success", done.body
    assert done.body["effects"][-1]["args"] == {"name": "plan", "value": "gold"}


def test_tampered_and_wrongly_signed_tokens_are_refused(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "idv", SIGNED, secrets=[{"name": "KEY", "value": SECRET}])
    bind(service, tenant, "post-login", ["idv"])

    def attempt(make: Callable[[str], str]) -> str:
        first = execute(service, tenant, "post-login", LOGIN_EVENT).body
        token = first["redirect"]["query"]["session_token"]
        done = resume(service, tenant, first["execution_id"], {
            "continuation": first["continuation"], "query": {"session_token": make(token)}})
        assert done.body["status"] == "denied", done.body
        return done.body["denial"]["reason"]

    def tampered(token: str) -> str:
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["plan"] = "platinum"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{signature}"

    assert "signature does not match" in attempt(tampered)
    assert "not a valid JWT" in attempt(lambda token: "garbage")
    wrong_secret = ("def on_execute_post_login(event, api):\n"
                    "    token = api.redirect.encode_token('w' * 40, {'plan': 'gold'})\n"
                    "    api.redirect.send_user_to('https://idv.example.com/', "
                    "{'session_token': token})\n")
    deploy_and_bind(service, tenant, "signer", wrong_secret)
    bind(service, tenant, "post-login", ["signer"])
    signed_elsewhere = execute(service, tenant, "post-login", LOGIN_EVENT).body
    other_token = signed_elsewhere["redirect"]["query"]["session_token"]
    bind(service, tenant, "post-login", ["idv"])
    assert "signature does not match" in attempt(lambda token: other_token)


def test_transaction_metadata_reaches_a_later_action(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "tag", "def on_execute_post_login(event, api):\n"
                    "    api.transaction.set_metadata('risk', 'low')\n")
    deploy_and_bind(service, tenant, "read", "def on_execute_post_login(event, api):\n"
                    "    api.id_token.set_custom_claim('risk', event.transaction.metadata.risk)\n")
    bind(service, tenant, "post-login", ["tag", "read"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["status"] == "success", reply.body
    assert reply.body["effects"][-1]["args"] == {"name": "risk", "value": "low"}


def test_validation_error_stops_the_flow_and_says_so(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "check", "def on_execute_pre_user_registration(event, api):\n"
                    "    api.validation.error('invalid_email', 'use your work address')\n",
                    trigger="pre-user-registration")
    deploy_and_bind(service, tenant, "later", "def on_execute_pre_user_registration(event, api):\n"
                    "    api.user.set_app_metadata('never', 1)\n", trigger="pre-user-registration")
    bind(service, tenant, "pre-user-registration", ["check", "later"])
    reply = execute(service, tenant, "pre-user-registration", {"user": {"email": "a@b.example"}})
    assert reply.body["status"] == "denied", reply.body
    assert reply.body["denial"] == {"by": "validation", "action": "check",
                                    "code": "invalid_email", "message": "use your work address"}
    assert [a["status"] for a in reply.body["actions"]] == ["denied", "skipped"]
    deploy_and_bind(service, tenant, "deny", "def on_execute_pre_user_registration(event, api):\n"
                    "    api.access.deny('no signups')\n", trigger="pre-user-registration")
    bind(service, tenant, "pre-user-registration", ["deny"])
    denied = execute(service, tenant, "pre-user-registration", {"user": {"email": "a@b.example"}})
    assert denied.body["denial"]["by"] == "access"
    assert denied.body["denial"]["reason"] == "no signups"


def test_an_idempotent_replay_of_a_pause_gets_a_fresh_token(service: Service,
                                                            tenant: dict) -> None:
    deploy_and_bind(service, tenant, "consent", CONSENT)
    bind(service, tenant, "post-login", ["consent"])
    key = {"Idempotency-Key": "login-42"}
    first = execute(service, tenant, "post-login", LOGIN_EVENT, headers=key)
    again = execute(service, tenant, "post-login", LOGIN_EVENT, headers=key)
    assert again.headers.get("Idempotent-Replay") == "true"
    assert again.body["execution_id"] == first.body["execution_id"]
    assert again.body["continuation"] not in (None, first.body["continuation"])
    stale = resume(service, tenant, first.body["execution_id"],
                   {"continuation": first.body["continuation"]})
    assert (stale.status, stale.body["error"]["code"]) == (409, "continuation_used")
    done = resume(service, tenant, first.body["execution_id"],
                  {"continuation": again.body["continuation"], "query": {"answer": "ok"}})
    assert done.body["status"] == "success", done.body


def test_a_continue_ignores_the_idempotency_key_of_its_login(service: Service,
                                                             tenant: dict) -> None:
    # Red team: one Idempotency-Key for a whole login (execute, then continue) answered the
    # continue with the paused record as a replay, with the continuation used up: lost flow.
    deploy_and_bind(service, tenant, "consent", CONSENT)
    bind(service, tenant, "post-login", ["consent"])
    key = {"Idempotency-Key": "login-43"}
    first = execute(service, tenant, "post-login", LOGIN_EVENT, headers=key).body
    done = service.request(
        "POST", f"/v1/tenants/{tenant['id']}/executions/{first['execution_id']}/continue",
        {"continuation": first["continuation"], "query": {"answer": "ok"}},
        token=tenant["execution_token"], headers=key)
    assert done.status == 200, done
    assert "Idempotent-Replay" not in done.headers
    assert done.body["status"] == "success", done.body
    claims = {e["args"]["name"]: e["args"]["value"] for e in done.body["effects"]
              if e["op"] == "id_token.set_custom_claim"}
    assert claims["consent"] == "ok"
    again = service.request(
        "POST", f"/v1/tenants/{tenant['id']}/executions/{first['execution_id']}/continue",
        {"continuation": first["continuation"]}, token=tenant["execution_token"], headers=key)
    assert (again.status, again.body["error"]["code"]) == (409, "continuation_used")
    assert record(service, tenant, first["execution_id"])["status"] == "success"


def test_the_handler_query_parameter_is_gone(service: Service, tenant: dict) -> None:
    path = f"/v1/tenants/{tenant['id']}/triggers/post-login/execute?handler=on_continue_post_login"
    reply = service.request("POST", path, LOGIN_EVENT, token=tenant["execution_token"])
    assert (reply.status, reply.body["error"]["code"]) == (400, "invalid_handler")
    assert "/continue" in reply.body["error"]["message"]


FORM = ("def on_execute_post_login(event, api):\n"
        "    api.prompt.render('ap_company', fields={'first_name': 'Jane'})\n"
        "def on_continue_post_login(event, api):\n"
        "    api.user.set_user_metadata('company', event.request.body.company)\n")
FORM_AND_REDIRECT = ("def on_execute_post_login(event, api):\n"
                     "    api.prompt.render('ap_company')\n"
                     "    api.redirect.send_user_to('https://x.example.com/')\n")


def test_a_prompt_pauses_the_flow_like_a_redirect(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "form", FORM)
    deploy_and_bind(service, tenant, "later", CLAIM.format("later"))
    bind(service, tenant, "post-login", ["form", "later"])
    first = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert first.status == 200, first
    assert first.body["status"] == "prompt", first.body
    assert first.body["prompt"] == {"prompt_id": "ap_company", "fields": {"first_name": "Jane"},
                                    "vars": None}
    assert "redirect" not in first.body
    assert [a["status"] for a in first.body["actions"]] == ["ok", "pending"]
    done = resume(service, tenant, first.body["execution_id"], {
        "continuation": first.body["continuation"], "body": {"company": "Acme"}})
    assert done.status == 200, done
    assert done.body["status"] == "success"
    assert [(e["op"], e["args"].get("value")) for e in done.body["effects"]] == [
        ("prompt.render", None), ("user.set_user_metadata", "Acme"),
        ("id_token.set_custom_claim", 1)]


def test_an_action_cannot_both_redirect_and_prompt(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "both", FORM_AND_REDIRECT)
    bind(service, tenant, "post-login", ["both"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200, reply
    assert reply.body["status"] == "failed"
    assert reply.body["actions"][0]["error"]["type"] == "RedirectAndPrompt"
    assert reply.body["effects"] == [] and "continuation" not in reply.body
