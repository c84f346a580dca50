"""fetch() through a real pool, real contained children and the worker's egress, against a
local remote on 127.0.0.1 (allowed as loopback here, as ACTIONS_EGRESS_ALLOW_LOOPBACK does).
A child whose action escaped sends forged, malformed and excess fetch frames: refused."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime.egress_hosts import AllowList
from sandbox.limits import Limits
from sandbox.outcome import ActionOutcome
from tests.remote import Remote, echo_of, start_remote, stop_remote
from tests.worker.poolkit import action, run, sha
from worker.child import ESCAPE_MARKER
from worker.egress import Egress, EgressLimits, EgressScope, with_egress
from worker.flow import FlowAction, Resume, run_flow
from worker.pool import SandboxPool


@pytest.fixture
async def remote() -> AsyncIterator[Remote]:
    remote, runner = await start_remote()
    yield remote
    await stop_remote(remote, runner)


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    pool = SandboxPool(escape_hook=True, spare_children=0, grace_s=0.3)
    await pool.start()
    yield pool
    await pool.close()


@pytest.fixture
async def garbled() -> AsyncIterator[str]:
    """A remote on 127.0.0.1 whose every answer is one no HTTP client parses."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 9999 WHAT\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


def egress_for(policies: dict[str, list[str]], **limits: Any) -> Egress:
    async def load(tenant: str) -> AllowList:
        return AllowList.of(policies.get(tenant, []))
    return Egress(EgressLimits(**{"allow_loopback": True, **limits}), load)


async def fetching(pool: SandboxPool, scope: EgressScope | None, source: str, *,
                   tenant: str = "acme", timeout_s: float = 5.0) -> ActionOutcome:
    return await pool.run(tenant, code_sha256=sha(source), source=source,
                          trigger_id="post-login", handler="on_execute_post_login",
                          event={"user": {"user_id": "u1"}}, secrets={}, cache={},
                          limits=Limits(timeout_s=timeout_s), egress=scope)


def catching(call: str) -> str:
    return action(f"try:\n    {call}\n    print('no error')\nexcept FetchError as e:\n"
                  "    print(e.reason, '|', e.message)")


async def test_an_allowed_request_and_its_record(pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    source = action(
        f'r = fetch("{remote.url}/echo?token=s3cr3t&x=1", method="POST", json={{"a": 1}},\n'
        '          headers={"Authorization": "Bearer k"})\n'
        f'again = fetch("{remote.url}/echo")\n'
        'print(r.status, r.headers.get("set-cookie"))\n'
        'print(again.text)')
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.status == "ok", outcome.error
    first, second = remote.seen
    assert (first["method"], first["query"], first["body"]) == ("POST", "token=s3cr3t&x=1",
                                                               '{"a":1}')
    assert first["headers"]["authorization"] == "Bearer k"
    assert first["headers"]["accept-encoding"] == "identity"
    assert first["headers"]["content-type"] == "application/json"
    assert "cookie" not in second["headers"]  # the Set-Cookie of the first was not kept
    assert echo_of(outcome.logs)["path"] == "/echo"
    assert outcome.fetches == [
        {"method": "POST", "scheme": "http", "host": "127.0.0.1", "port": remote.port,
         "path": "/echo", "status": 200, "error": None,
         "duration_ms": outcome.fetches[0]["duration_ms"], "bytes": outcome.fetches[0]["bytes"]},
        {"method": "GET", "scheme": "http", "host": "127.0.0.1", "port": remote.port,
         "path": "/echo", "status": 200, "error": None,
         "duration_ms": outcome.fetches[1]["duration_ms"], "bytes": outcome.fetches[1]["bytes"]},
    ]
    assert all(f["bytes"] > 0 and f["duration_ms"] >= 0 for f in outcome.fetches)
    assert "s3cr3t" not in repr(outcome.fetches)  # no query strings, bodies or header values


@pytest.mark.parametrize(("policy", "url", "reason"), [
    ([], "{url}/echo", "host_not_allowed"),  # a tenant without egress
    (["http://127.0.0.1:1"], "{url}/echo", "host_not_allowed"),  # another port
    (["https://127.0.0.1:{port}"], "{url}/echo", "host_not_allowed"),  # another scheme
    (["http://localhost:{port}"], "{url}/echo", "host_not_allowed"),  # another name
    (["http://127.0.0.1:{port}"], "http://localhost:{port}/echo", "host_not_allowed"),
    (["http://127.0.0.1:{port}"], "http://user:pw@127.0.0.1:{port}/echo", "invalid_request"),
    (["*.example.com"], "https://metadata.example.com/latest", "connection_failed"),
])
async def test_refused_requests_never_reach_the_remote(pool: SandboxPool, remote: Remote,
                                                       policy: list[str], url: str,
                                                       reason: str) -> None:
    def fill(text: str) -> str:
        return text.replace("{url}", remote.url).replace("{port}", str(remote.port))
    egress = egress_for({"acme": [fill(p) for p in policy]})
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, catching(f'fetch("{fill(url)}")'))
    assert outcome.logs.split(" | ")[0] == reason, outcome.logs
    assert remote.hits == {}
    [record] = outcome.fetches
    assert record["error"] == reason and record["status"] is None


async def test_loopback_is_refused_without_the_operator_flag(pool: SandboxPool,
                                                             remote: Remote) -> None:
    entries = [remote.url, f"http://localhost:{remote.port}", f"http://[::1]:{remote.port}"]
    egress = egress_for({"acme": entries}, allow_loopback=False)
    async with egress.scope("acme") as scope:
        for url in entries:
            outcome = await fetching(pool, scope, catching(f'fetch("{url}/echo")'))
            assert outcome.logs.startswith("address_not_allowed | "), outcome.logs
            assert "loopback" in outcome.logs
    assert remote.hits == {}


async def test_redirects_are_checked_hop_by_hop(pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    to_echo = f"{remote.url}/redirect?status=307&to=/echo%3Fq%3D1"
    to_redis = f"{remote.url}/redirect?to=http://127.0.0.1:6379/"
    to_metadata = f"{remote.url}/redirect?to=http://169.254.169.254/latest/meta-data/"
    to_ftp = f"{remote.url}/redirect?to=ftp://127.0.0.1/"
    source = action(
        f'r = fetch("{to_echo}", method="POST", data="body", headers={{"Authorization": "k"}})\n'
        'print(r.status, r.redirected, r.url)\n'
        f'for url in ["{to_redis}", "{to_metadata}", "{to_ftp}", "{remote.url}/loop/0"]:\n'
        '    try:\n'
        '        fetch(url)\n'
        '    except FetchError as e:\n'
        '        print(e.reason)')
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.status == "ok", outcome.error
    assert outcome.logs.splitlines() == [
        f"200 True {remote.url}/echo?q=1", "host_not_allowed", "host_not_allowed",
        "invalid_request", "too_many_redirects"]
    [echoed] = remote.seen
    # 307 keeps the method and body; the same origin keeps the credentials
    assert (echoed["method"], echoed["body"], echoed["headers"]["authorization"]) == (
        "POST", "body", "k")
    assert remote.hits["/loop/5"] == 1 and remote.hits["/loop/6"] == 0  # at most 5 redirects
    hops = [(f["path"], f["status"], f["error"]) for f in outcome.fetches]
    assert hops[:4] == [("/redirect", 307, None), ("/echo", 200, None),
                        ("/redirect", 302, None), ("/", None, "host_not_allowed")]
    assert hops[-1] == ("/loop/5", 302, "too_many_redirects")


async def test_a_cross_origin_redirect_drops_the_credentials(pool: SandboxPool,
                                                             remote: Remote) -> None:
    other = f"http://localhost:{remote.port}"
    egress = egress_for({"acme": [remote.url, other]})
    source = action(f'r = fetch("{remote.url}/redirect?status=303&to={other}/echo",'
                    ' method="POST", data="x", headers={"Authorization": "k", "X-Keep": "1"})\n'
                    'print(r.status)')
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.logs == "200\n", outcome.error
    [echoed] = remote.seen
    assert echoed["method"] == "GET" and echoed["body"] == ""  # 303: GET without the body
    assert "authorization" not in echoed["headers"]
    assert echoed["headers"]["x-keep"] == "1"


async def test_a_slow_remote_is_cut_at_the_actions_deadline(pool: SandboxPool,
                                                            remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    async with egress.scope("acme") as scope:
        # The fetch ends before the action's 1 s: the action gets a FetchError and finishes.
        outcome = await fetching(pool, scope, catching(f'fetch("{remote.url}/slow")'),
                                 timeout_s=1.0)
        assert outcome.status == "ok", outcome.error
        assert outcome.logs.startswith("timeout | ")
        short = await fetching(pool, scope, catching(
            f'fetch("{remote.url}/slow", timeout_s=0.2)'), timeout_s=5.0)
        assert short.logs.startswith("timeout | no answer within 0.2 s")
    assert [f["error"] for f in outcome.fetches + short.fetches] == ["timeout", "timeout"]


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_an_oversized_body_is_cut(pool: SandboxPool, remote: Remote, path: str) -> None:
    egress = egress_for({"acme": [remote.url]}, max_response_bytes=1024 * 1024)
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, catching(f'fetch("{remote.url}{path}")'))
    assert outcome.logs == "too_large | the response body is over the 1048576-byte limit\n"
    assert [(f["status"], f["error"]) for f in outcome.fetches] == [(200, "too_large")]


async def test_a_request_body_over_the_workers_cap(pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]}, max_request_bytes=1000)
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, catching(
            f'fetch("{remote.url}/echo", method="POST", data="x" * 1001)'))
    assert outcome.logs.startswith("too_large | the request body is 1001 bytes")
    assert remote.hits == {}


async def test_the_21st_request_of_an_execution_is_refused(pool: SandboxPool,
                                                           remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    loop = action(f"for i in range(15):\n    fetch('{remote.url}/echo')\nprint('done')")
    async with egress.scope("acme") as scope:
        first = await fetching(pool, scope, loop)
        second = await fetching(pool, scope, loop)  # the same execution's next action
    assert first.status == "ok"
    assert second.error is not None and "(too_many_requests)" in second.error["message"]
    assert remote.hits["/echo"] == 20
    assert [f["error"] for f in second.fetches] == [None] * 5 + ["too_many_requests"]
    async with egress.scope("acme") as fresh:  # the next execution starts from zero
        assert (await fetching(pool, fresh, loop)).status == "ok"


async def test_tenants_see_only_their_own_policy(pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    async with egress.scope("globex") as scope:
        outcome = await fetching(pool, scope, catching(f'fetch("{remote.url}/echo")'),
                                 tenant="globex")
    assert outcome.logs.startswith("host_not_allowed | ")
    assert remote.hits == {}


async def test_without_an_egress_scope_fetch_is_unavailable(pool: SandboxPool,
                                                            remote: Remote) -> None:
    outcome = await fetching(pool, None, catching(f'fetch("{remote.url}/echo")'))
    assert outcome.logs.startswith("unavailable | ")
    assert outcome.fetches == [] and remote.hits == {}


def escaped(body: str) -> str:
    return ESCAPE_MARKER + body + "\n"


def frames(*requests: str, job: str = "request['job']") -> str:
    """An escaped action that sends each FETCH frame and collects the worker's answers."""
    lines = ["answers = []"]
    for request in requests:
        lines += [f"protocol.write_frame_fd(fd, {{'op': 'fetch', 'job': {job}, "
                  f"'request': {request}}})",
                  "answer = protocol.read_frame_fd(fd)",
                  "answers.append(answer and ((answer.get('error') or {}).get('reason') or "
                  "answer['response']['status']))"]
    return escaped("\n".join(lines) + "\nresult = answers")


async def test_a_hostile_childs_malformed_requests_get_refusals(pool: SandboxPool,
                                                                remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    url = f"{remote.url}/echo"
    source = frames(
        repr({"url": url, "headers": [["Host", "internal"]]}),
        repr({"url": url, "headers": [["Transfer-Encoding", "chunked"]]}),
        repr({"url": url, "headers": [["X-A", "a\r\nX-Injected: 1"]]}),
        repr({"url": url, "method": "GET", "body": b"smuggled"}),
        f"{{'url': {url!r}, 'method': 'POST', 'body': b'x' * 600000}}",
        repr({"url": "http://127.0.0.1:6379/", "method": "POST", "body": b"FLUSHALL"}),
        repr({"url": url, "extra": 1}),
        repr({"url": url}))
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.status == "ok", outcome.error
    assert outcome.logs == ("ok: ['invalid_request', 'invalid_request', 'invalid_request', "
                            "'invalid_request', 'too_large', 'host_not_allowed', "
                            "'invalid_request', 200]")
    assert remote.hits == {"/echo": 1}
    assert len(outcome.fetches) == 8


@pytest.mark.parametrize(("source", "problem"), [
    (frames("{'url': 'http://x'}", job="request['job'] + 1"), "a fetch frame for another job"),
    (frames("['http://x']"), "a fetch frame without a request map"),
    (frames("None"), "a fetch frame without a request map"),
])
async def test_a_forged_fetch_frame_is_a_protocol_breach(pool: SandboxPool, remote: Remote,
                                                         source: str, problem: str) -> None:
    egress = egress_for({"acme": [remote.url]})
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.error is not None
    assert outcome.error["class"] == "crashed"
    assert problem in outcome.error["message"]
    assert remote.hits == {}


async def test_a_hostile_child_cannot_pass_the_cap(pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    url = f"{remote.url}/echo"
    # Ignores too_many_requests and keeps asking: killed as a breach at the next ask.
    source = frames(*[repr({"url": url})] * 25)
    forged = escaped("reply = {'op': 'result', 'job': request['job'], 'compiled': False, "
                     "'outcome': {'status': 'ok', 'effects': [], 'logs': '', "
                     "'duration_ms': 0.0, 'error': None, 'fetches': [{'host': 'forged'}]}}")
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
        after = await fetching(pool, scope, forged)
        honest = await fetching(pool, scope, catching(f'fetch("{url}")'))
    assert outcome.error is not None and outcome.error["class"] == "crashed"
    assert "fetch frames after too_many_requests" in outcome.error["message"]
    assert remote.hits["/echo"] == 20
    assert [f["error"] for f in outcome.fetches] == [None] * 20 + ["too_many_requests"]
    assert after.status == "ok" and after.fetches == []  # a child's own list is not believed
    assert honest.logs.startswith("too_many_requests | ")


async def test_a_run_that_fetched_is_not_run_again_after_its_child_dies(
        pool: SandboxPool, remote: Remote) -> None:
    egress = egress_for({"acme": [remote.url]})
    source = escaped(
        f"protocol.write_frame_fd(fd, {{'op': 'fetch', 'job': request['job'], "
        f"'request': {{'url': '{remote.url}/echo'}}}})\n"
        "protocol.read_frame_fd(fd)\nimport os\nos._exit(3)")
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, source)
    assert outcome.error is not None and outcome.error["class"] == "crashed"
    assert pool.stats.reruns == 0
    assert remote.hits["/echo"] == 1  # the SMS went out once, not twice


async def test_honest_runs_without_fetch_are_unchanged(pool: SandboxPool) -> None:
    outcome = await run(pool, action("api.id_token.set_custom_claim('https://a.example/x', 1)"))
    assert outcome.status == "ok" and outcome.fetches == []


async def test_a_failure_message_never_carries_the_query(pool: SandboxPool,
                                                         garbled: str) -> None:
    # aiohttp's ClientResponseError names the whole URL; uncaught, the message is the
    # execution record's, and a query often carries an API key.
    egress = egress_for({"acme": [garbled]})
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, action(f"fetch('{garbled}/x?api_key=k-s3cr3t')"))
    assert outcome.error is not None and outcome.error["type"] == "FetchError"
    assert outcome.error["message"].startswith("fetch: ClientResponseError: Bad status line")
    assert "s3cr3t" not in repr(outcome)


async def test_a_hostile_childs_huge_urls_stay_out_of_the_record(pool: SandboxPool,
                                                                 remote: Remote) -> None:
    # A refused ask is recorded with whatever of its URL parses; the frame holds 1 MiB.
    egress = egress_for({"acme": [remote.url]})
    huge = "{'url': 'http://' + 'a' * 1000000 + '/'}"
    async with egress.scope("acme") as scope:
        outcome = await fetching(pool, scope, frames(huge, huge, huge))
    assert outcome.logs == "ok: ['invalid_request', 'invalid_request', 'invalid_request']"
    assert [len(f["host"]) for f in outcome.fetches] == [253] * 3


async def test_a_continued_flow_counts_the_requests_made_before_its_pause(
        pool: SandboxPool, remote: Remote) -> None:
    code = ("def on_execute_post_login(event, api):\n"
            f"    for i in range(15):\n        fetch('{remote.url}/echo')\n"
            "    api.redirect.send_user_to('https://x.example/')\n"
            "def on_continue_post_login(event, api):\n"
            f"    for i in range(15):\n        fetch('{remote.url}/echo')\n")
    actions = [FlowAction(action_id="id-a", name="a", version=1, code=code,
                          code_sha256=sha(code), secrets={}, cache={})]
    flow = with_egress(run_flow, egress_for({"acme": [remote.url]}))

    async def running(**resumed: Any) -> dict[str, Any]:
        return await flow(pool, tenant="acme", trigger_id="post-login", actions=actions,  # type: ignore[no-any-return]
                          event={"user": {"user_id": "u1"}}, limits=Limits(),
                          deadline=time.monotonic() + 20, **resumed)
    paused = await running()
    assert paused["status"] == "redirect"
    pause = paused["pause"]
    continued = await running(resume=Resume(pause["position"], pause["effects"],
                                            pause["records"]))
    error = continued["actions"][-1]["error"]
    assert error is not None and "(too_many_requests)" in error["message"]
    assert remote.hits["/echo"] == 20  # one execution, before and after its pause
