"""A local HTTP server playing the remote an action fetches from (127.0.0.1 only)."""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BIG_BYTES = 2 * 1024 * 1024


@dataclass
class Remote:
    """What the remote saw: hits per path, and each request to /echo and the providers."""

    url: str = ""
    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    seen: list[dict[str, Any]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # ends the slow answers

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_route("*", "/provider/{name}", self.provider)
        app.router.add_get("/profile/{user}", self.profile)
        app.router.add_route("*", "/redirect", self.redirect)
        app.router.add_get("/loop/{n}", self.loop)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/big", self.big)
        app.router.add_get("/big-chunked", self.big_chunked)
        app.middlewares.append(self.count)
        return app

    @web.middleware
    async def count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.hits[request.path] += 1
        return await handler(request)

    async def _note(self, request: web.Request) -> dict[str, Any]:
        body = await request.read()
        seen = {"method": request.method, "path": request.path, "query": request.query_string,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": body.decode("utf-8", "replace")}
        self.seen.append(seen)
        return seen

    async def echo(self, request: web.Request) -> web.Response:
        seen = await self._note(request)
        response = web.json_response(seen)
        response.set_cookie("session", "s3cr3t")
        return response

    async def provider(self, request: web.Request) -> web.Response:
        seen = await self._note(request)
        return web.json_response({"id": f"msg-{len(self.seen)}", "received": seen["body"]},
                                 status=201)

    async def profile(self, request: web.Request) -> web.Response:
        await self._note(request)
        if request.headers.get("Authorization") != "Bearer profile-key":
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"user": request.match_info["user"], "plan": "gold",
                                  "crm_id": "crm-42"})

    async def redirect(self, request: web.Request) -> web.Response:
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})

    async def loop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(status=302, headers={"Location": f"/loop/{n + 1}"})

    async def slow(self, request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.stopping.wait(), 60)
        except TimeoutError:
            pass
        return web.Response(text="late")

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * BIG_BYTES)

    async def big_chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(BIG_BYTES // 65536):
            await response.write(b"y" * 65536)
        await response.write_eof()
        return response


async def start_remote() -> tuple[Remote, web.AppRunner]:
    remote = Remote()
    runner = web.AppRunner(remote.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    remote.port = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    remote.url = f"http://127.0.0.1:{remote.port}"
    return remote, runner


async def stop_remote(remote: Remote, runner: web.AppRunner) -> None:
    remote.stopping.set()
    await runner.cleanup()


def echo_of(logs: str) -> dict[str, Any]:
    """The /echo answer an action printed as JSON on its last line."""
    return json.loads(logs.strip().splitlines()[-1])  # type: ignore[no-any-return]


class RemoteThread:
    """The remote on its own event loop in a thread, for tests that block (the e2e ones)."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.remote: Remote | None = None
        self._runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.remote, self._runner = self.loop.run_until_complete(start_remote())
        self.ready.set()
        self.loop.run_forever()

    def start(self) -> Remote:
        self.thread.start()
        if not self.ready.wait(10) or self.remote is None:
            raise RuntimeError("the remote did not start")
        return self.remote

    def stop(self) -> None:
        if self._runner is not None and self.remote is not None:
            asyncio.run_coroutine_threadsafe(stop_remote(self.remote, self._runner),
                                             self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
