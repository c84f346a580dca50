"""fetch() inside an action: the request map it hands its transport, every refusal of bad
arguments, the response object, and check_request (the worker's re-check) on hostile maps."""
from __future__ import annotations

from typing import Any

import pytest

from sandbox.compiler import compile_action
from sandbox.execute import run_action
from sandbox.fetch import MAX_REQUEST_BYTES, FetchError, check_request
from sandbox.limits import Limits
from sandbox.outcome import ActionOutcome


class Transport:
    """The pipe's stand-in: keeps what the action sent, answers with `replies` in turn."""

    def __init__(self, *replies: dict[str, Any]) -> None:
        self.sent: list[dict[str, Any]] = []
        self.replies = list(replies) or [ok()]

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(request)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def ok(status: int = 200, body: bytes = b'{"a": 1}', headers: list | None = None) -> dict:
    return {"response": {"status": status, "body": body, "url": "https://api.example.com/x",
                         "redirected": False,
                         "headers": headers if headers is not None else [
                             ["Content-Type", "application/json"], ["Set-Cookie", "a=1"],
                             ["Set-Cookie", "b=2"]]}}


def run(body: str, transport: Transport | None = None) -> ActionOutcome:
    lines = "\n".join("    " + line for line in body.splitlines())
    compiled = compile_action(f"def on_execute_post_login(event, api):\n{lines}\n")
    assert compiled.code is not None, compiled.errors
    return run_action(compiled.code, trigger_id="post-login", handler="on_execute_post_login",
                      event={"user": {"user_id": "u1"}}, secrets={}, cache={}, limits=Limits(),
                      fetch_transport=transport)


@pytest.mark.parametrize(("call", "sent"), [
    ('fetch("https://api.example.com/x?q=1")',
     {"url": "https://api.example.com/x?q=1", "method": "GET", "headers": [], "body": None,
      "timeout_s": None}),
    ('fetch("https://api.example.com/x", method="post", json={"n": [1, 2.5, None]})',
     {"url": "https://api.example.com/x", "method": "POST",
      "headers": [["Content-Type", "application/json"]], "body": b'{"n":[1,2.5,null]}',
      "timeout_s": None}),
    ('fetch("https://api.example.com/x", method="PUT", data="héllo", timeout_s=2)',
     {"url": "https://api.example.com/x", "method": "PUT",
      "headers": [["Content-Type", "text/plain; charset=utf-8"]], "body": "héllo".encode(),
      "timeout_s": 2.0}),
    ('fetch("https://api.example.com/x", method="POST", data={"To": "+1 555", "Body": "a&b"},'
     ' headers={"Authorization": "Basic eDp5"})',
     {"url": "https://api.example.com/x", "method": "POST",
      "headers": [["Authorization", "Basic eDp5"],
                  ["Content-Type", "application/x-www-form-urlencoded"]],
      "body": b"To=%2B1+555&Body=a%26b", "timeout_s": None}),
    ('fetch("https://api.example.com/x", method="PATCH", data=b"\\x00\\x01",'
     ' headers={"content-type": "application/x-thing"})',
     {"url": "https://api.example.com/x", "method": "PATCH",
      "headers": [["content-type", "application/x-thing"]], "body": b"\x00\x01",
      "timeout_s": None}),
    ('fetch("https://api.example.com/x", json=event.user, method="POST")',
     {"url": "https://api.example.com/x", "method": "POST",
      "headers": [["Content-Type", "application/json"]], "body": b'{"user_id":"u1"}',
      "timeout_s": None}),
])
def test_the_request_the_transport_gets(call: str, sent: dict[str, Any]) -> None:
    transport = Transport()
    outcome = run(call, transport)
    assert outcome.error is None
    assert transport.sent == [sent]


BIG = MAX_REQUEST_BYTES + 1


@pytest.mark.parametrize(("call", "reason", "message"), [
    ('fetch(7)', "invalid_request", "url must be a str"),
    ('fetch("")', "invalid_request", "url must be a str of 1 to 8192"),
    ('fetch("ftp://files.example/x")', "invalid_request", "must start with https:// or http://"),
    ('fetch("file:///etc/passwd")', "invalid_request", "must start with https:// or http://"),
    ('fetch("https://api.example.com/a b")', "invalid_request", "spaces or control"),
    ('fetch("https://api.example.com/\\r\\nHost: x")', "invalid_request", "spaces or control"),
    ('fetch("https://api.example.com/" + "a" * 9000)', "invalid_request", "1 to 8192"),
    ('fetch("https://x.example", method="TRACE")', "invalid_request", "method must be one of"),
    ('fetch("https://x.example", method="GET ")', "invalid_request", "method must be one of"),
    ('fetch("https://x.example", headers=[("a", "b")])', "invalid_request", "must be a dict"),
    ('fetch("https://x.example", headers={"Host": "internal"})', "invalid_request",
     "'Host' is set by the runtime"),
    ('fetch("https://x.example", headers={"content-length": "5"})', "invalid_request",
     "set by the runtime"),
    ('fetch("https://x.example", headers={"Transfer-Encoding": "chunked"})', "invalid_request",
     "set by the runtime"),
    ('fetch("https://x.example", headers={"Cookie": "s=1"})', "invalid_request",
     "set by the runtime"),
    ('fetch("https://x.example", headers={"Proxy-Authorization": "x"})', "invalid_request",
     "set by the runtime"),
    ('fetch("https://x.example", headers={"X-A": "1\\r\\nHost: evil"})', "invalid_request",
     "visible ASCII"),
    ('fetch("https://x.example", headers={"X-A": "é"})', "invalid_request", "visible ASCII"),
    ('fetch("https://x.example", headers={"Bad Name": "1"})', "invalid_request",
     "not an HTTP token"),
    ('fetch("https://x.example", headers={"X-A": 1})', "invalid_request", "must be a str"),
    ('fetch("https://x.example", headers={"X-A": "a", "x-a": "b"})', "invalid_request",
     "given twice"),
    ('fetch("https://x.example", headers={"X-A": "v" * 9000})', "invalid_request",
     "at most 8192"),
    ('fetch("https://x.example", headers={f"X-{i}": "v" for i in range(65)})',
     "invalid_request", "at most 64"),
    ('fetch("https://x.example", json={"a": 1}, data="x", method="POST")', "invalid_request",
     "not both"),
    ('fetch("https://x.example", json={"a": 1})', "invalid_request", "a GET request has no body"),
    ('fetch("https://x.example", json={1: 2}, method="POST")', "invalid_request", "json:"),
    ('fetch("https://x.example", json=float("nan"), method="POST")', "invalid_request", "json:"),
    ('fetch("https://x.example", data=[1], method="POST")', "invalid_request",
     "data must be a str, bytes or a dict"),
    ('fetch("https://x.example", data={"a": 1}, method="POST")', "invalid_request",
     "str keys and str values"),
    (f'fetch("https://x.example", data="x" * {BIG}, method="POST")', "too_large",
     "request body"),
    (f'fetch("https://x.example", data=b"x" * {BIG}, method="POST")', "too_large",
     "request body"),
    (f'fetch("https://x.example", json=["x" * {BIG}], method="POST")', "invalid_request",
     "limit"),
    ('fetch("https://x.example", timeout_s=0)', "invalid_request", "positive number"),
    ('fetch("https://x.example", timeout_s=True)', "invalid_request", "positive number"),
    ('fetch("https://x.example", timeout_s=float("inf"))', "invalid_request", "positive number"),
    ('fetch("https://x.example", timeout_s="1")', "invalid_request", "positive number"),
])
def test_bad_arguments_are_refused_in_the_child(call: str, reason: str, message: str) -> None:
    transport = Transport()
    outcome = run(f"try:\n    {call}\nexcept FetchError as e:\n    print(e.reason, '|', e)",
                  transport)
    assert outcome.error is None, outcome.error
    got_reason, _, got_message = outcome.logs.partition(" | ")
    assert got_reason == reason
    assert message in got_message
    assert transport.sent == []  # refused before anything left the child


def test_the_response_object() -> None:
    outcome = run(
        'r = fetch("https://api.example.com/x")\n'
        'print(r.status, r.ok, r.url, r.redirected)\n'
        'print(r.headers["content-type"], r.headers.get("CONTENT-TYPE"), r.headers.get("nope"))\n'
        'print(r.headers["set-cookie"], "content-type" in r.headers, len(r.headers))\n'
        'print(sorted(r.headers), r.headers.items()[0])\n'
        'print(r.json()["a"], r.text, r.content)\n'
        'data = r.json()\n'
        'data["b"] = 2\n'
        'print(data)\n', Transport())
    assert outcome.error is None, outcome.error
    assert outcome.logs.splitlines() == [
        "200 True https://api.example.com/x False",
        "application/json application/json None",
        "a=1, b=2 True 2",
        "['content-type', 'set-cookie'] ('content-type', 'application/json')",
        "1 {\"a\": 1} b'{\"a\": 1}'",
        "{'a': 1, 'b': 2}",
    ]


@pytest.mark.parametrize("statement", [
    "r.status = 500", "r.headers.x = 1", "r.headers['a'] = 1", "del r.ok", "r.json = 1",
])
def test_the_response_is_read_only(statement: str) -> None:
    outcome = run(f'r = fetch("https://api.example.com/x")\n{statement}', Transport())
    assert outcome.error is not None
    assert outcome.error["type"] in ("TypeError", "AttributeError")


@pytest.mark.parametrize(("body", "headers", "text", "json_error"), [
    (b"caf\xe9", [["Content-Type", "text/plain; charset=ISO-8859-1"]], "café", "not JSON"),
    (b"caf\xe9", [["Content-Type", "text/plain"]], "caf\ufffd", "not JSON"),
    (b"NaN", [], "NaN", "NaN is not JSON"),
    (b"[" * 100_000, [], "[" * 100_000, "nested too deeply"),
    (b"1" * 5000, [], "1" * 5000, "not JSON"),
])
def test_text_and_json_of_odd_bodies(body: bytes, headers: list, text: str,
                                     json_error: str) -> None:
    outcome = run('r = fetch("https://api.example.com/x")\n'
                  'print(r.text == expected)\n'
                  'try:\n    r.json()\nexcept ValueError as e:\n    print(e)\n'.replace(
                      "expected", repr(text)), Transport(ok(body=body, headers=headers)))
    assert outcome.error is None, outcome.error
    same, message = outcome.logs.splitlines()
    assert same == "True"
    assert json_error in message


def test_a_refusal_from_the_worker_is_a_catchable_fetch_error() -> None:
    refused = {"error": {"reason": "host_not_allowed", "message": "https://x:443 is not allowed"}}
    outcome = run('try:\n    fetch("https://x.example")\nexcept FetchError as e:\n'
                  '    print(e.reason, e.message)\n'
                  'fetch("https://x.example")', Transport(refused))
    assert outcome.logs == "host_not_allowed https://x:443 is not allowed\n"
    assert outcome.error is not None
    assert (outcome.error["type"], outcome.error["line"]) == ("FetchError", 6)
    assert outcome.error["message"] == ("fetch: https://x:443 is not allowed (host_not_allowed)")


def test_after_too_many_requests_the_child_stops_asking() -> None:
    transport = Transport(ok(), {"error": {"reason": "too_many_requests", "message": "20"}})
    outcome = run('fetch("https://x.example")\n'
                  'for i in range(5):\n'
                  '    try:\n        fetch("https://x.example")\n'
                  '    except FetchError as e:\n        print(e.reason)\n', transport)
    assert outcome.logs == "too_many_requests\n" * 5
    assert len(transport.sent) == 2  # the three after the refusal never left the child


def test_without_a_transport_fetch_is_unavailable() -> None:
    outcome = run('fetch("https://api.example.com/")')
    assert outcome.error is not None
    assert outcome.error["type"] == "FetchError"
    assert "(unavailable)" in outcome.error["message"]


def test_an_action_may_subclass_and_raise_fetch_error() -> None:
    outcome = run('class Mine(FetchError):\n    pass\n'
                  'try:\n    raise Mine("timeout", "mine")\nexcept FetchError as e:\n'
                  '    print(e.reason, e.message)')
    assert outcome.logs == "timeout mine\n"


# What a hostile child may put in its FETCH frame: the worker's check refuses each.
@pytest.mark.parametrize(("raw", "message"), [
    (None, "a request is a map"),
    ([], "a request is a map"),
    ({}, "a request is a map"),
    ({"url": "https://x", "extra": 1}, "a request is a map"),
    ({"url": b"https://x"}, "url must be a str"),
    ({"url": "gopher://x"}, "https:// or http://"),
    ({"url": "https://x", "method": "get"}, "method must be one of"),
    ({"url": "https://x", "method": "CONNECT"}, "method must be one of"),
    ({"url": "https://x", "headers": {"a": "b"}}, "name/value pairs"),
    ({"url": "https://x", "headers": [["a"]]}, "a name and a value"),
    ({"url": "https://x", "headers": [["Host", "y"]]}, "set by the runtime"),
    ({"url": "https://x", "headers": [["HOST", "y"]]}, "set by the runtime"),
    ({"url": "https://x", "headers": [["a", "b\nc"]]}, "visible ASCII"),
    ({"url": "https://x", "headers": [["a:b", "c"]]}, "not an HTTP token"),
    ({"url": "https://x", "headers": [["a", "1"]] * 65}, "at most 64"),
    ({"url": "https://x", "headers": [[f"h{i}", "v" * 8000] for i in range(5)]},
     "over 32768 bytes"),
    ({"url": "https://x", "method": "GET", "body": b"x"}, "has no body"),
    ({"url": "https://x", "method": "POST", "body": "text"}, "body must be bytes"),
    ({"url": "https://x", "method": "POST", "body": b"x" * (MAX_REQUEST_BYTES + 1)},
     "request body"),
    ({"url": "https://x", "timeout_s": -1}, "positive number"),
])
def test_check_request_refuses_hostile_maps(raw: Any, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        check_request(raw)


def test_check_request_applies_the_workers_smaller_cap() -> None:
    raw = {"url": "https://x", "method": "POST", "body": b"x" * 2000}
    assert check_request(raw).body == b"x" * 2000
    with pytest.raises(FetchError) as refused:
        check_request(raw, max_request_bytes=1000)
    assert refused.value.reason == "too_large"
