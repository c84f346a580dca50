"""The worker makes an action's fetch() requests, under its tenant's egress policy.

A child asks (worker/handle.py reads its FETCH frame); everything in the ask is re-checked
(sandbox/fetch.py check_request), then, hop by hop: the URL's scheme, host and port must be on
the tenant's allow-list (runtime/egress_hosts.py); the host is resolved and every address
checked (worker/egress_addresses.py), and the connection is pinned to the checked addresses
(worker/egress_resolver.py); the request goes out without cookies, proxies or decompression;
the response body is read up to the cap. Redirects are followed here, not by aiohttp, each hop
checked like the first, at most MAX_REDIRECTS. Each execution has its own session and
connection pool (`EgressScope`): nothing is shared between executions, let alone tenants.

Requests count against the execution (ACTIONS_EGRESS_MAX_REQUESTS, redirect hops included)
and the worker (ACTIONS_EGRESS_MAX_CONCURRENT in flight), and end at the action's deadline.
Each one is recorded for the execution record: method, scheme, host, port, path (no query),
status or error reason, duration and body bytes; never bodies, queries or header values.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from runtime.egress_hosts import DEFAULT_PORTS, MAX_HOST_CHARS, AllowList, normalize_host
from sandbox import fetch as fetch_rules
from sandbox.fetch import FetchError, FetchRequest
from worker.egress_resolver import (
    AddressRefused,
    DnsLookups,
    NotResolved,
    PinnedResolver,
    resolve_checked,
)

if TYPE_CHECKING:
    from runtime.settings import Settings

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RESPONSE_HEADERS_BYTES = 64 * 1024
MAX_RECORDED_PATH_CHARS = 512
USER_AGENT = "actions-runtime"
# Headers that carry the caller's credentials: dropped when a redirect leaves the origin.
CREDENTIAL_HEADERS = frozenset({"authorization"})

PolicyLoader = Callable[[str], Awaitable[AllowList]]


@dataclass(frozen=True)
class EgressLimits:
    """The operator's egress settings (runtime/settings.py ACTIONS_EGRESS_*)."""

    allow_loopback: bool = False
    max_requests: int = 20
    max_response_bytes: int = 1024 * 1024
    max_request_bytes: int = 256 * 1024
    max_concurrent: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressLimits:
        return cls(allow_loopback=settings.egress_allow_loopback,
                   max_requests=settings.egress_max_requests,
                   max_response_bytes=settings.egress_max_response_bytes,
                   max_request_bytes=settings.egress_max_request_bytes,
                   max_concurrent=settings.egress_max_concurrent)


class Egress:
    """One worker's egress: its limits, the in-flight semaphore and how to load a policy."""

    def __init__(self, limits: EgressLimits, load_policy: PolicyLoader) -> None:
        self.limits = limits
        self.load_policy = load_policy
        self.in_flight = asyncio.Semaphore(limits.max_concurrent)
        self.dns = DnsLookups()
        if limits.allow_loopback:
            log.warning("ACTIONS_EGRESS_ALLOW_LOOPBACK is set: actions may fetch() from "
                        "loopback addresses of allow-listed hosts (tests, local development)")

    @classmethod
    def for_worker(cls, redis: Any, settings: Settings) -> Egress:
        """The egress of a worker process: policies read from the tenant store in `redis`."""
        from runtime.store.egress import load_allowed_hosts

        async def load(tenant: str) -> AllowList:
            return AllowList.of(await load_allowed_hosts(redis, tenant))

        return cls(EgressLimits.from_settings(settings), load)

    def scope(self, tenant: str) -> EgressScope:
        return EgressScope(self, tenant)


def error_reply(error: FetchError) -> dict[str, Any]:
    return {"error": {"reason": error.reason, "message": error.message}}


def _target(url: URL) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL the worker parsed; FetchError if it has none usable."""
    scheme = (url.scheme or "").lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchError(fetch_rules.INVALID_REQUEST, "the URL's scheme must be https or http")
    if not url.raw_host:
        raise FetchError(fetch_rules.INVALID_REQUEST, "the URL has no host")
    if url.user is not None or url.password is not None:
        raise FetchError(fetch_rules.INVALID_REQUEST, "credentials in the URL are not "
                         "supported: send an Authorization header")
    port = url.port or DEFAULT_PORTS[scheme]
    return scheme, normalize_host(url.raw_host), port


def parse_url(text: str) -> URL:
    try:
        url = URL(text)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise FetchError(fetch_rules.INVALID_REQUEST, f"the URL does not parse: {exc}") from None
    _target(url)
    return url.with_fragment(None)


class EgressScope:
    """One execution's requests: the tenant's policy (read at the first request), the count,
    one session and the records. Use as `async with`; closing drops every connection."""

    def __init__(self, egress: Egress, tenant: str) -> None:
        self.egress = egress
        self.tenant = tenant
        self.requests = 0
        self._policy: AllowList | None = None
        self._resolver: PinnedResolver | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> EgressScope:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def limits(self) -> EgressLimits:
        return self.egress.limits

    async def fetch(self, raw: Any, *, deadline: float) -> tuple[dict[str, Any], list[dict]]:
        """Answer one FETCH frame's request by `deadline` (time.monotonic()): the reply map
        for the child and the records of what was asked (one per hop). Every ask counts
        against the execution's requests, a refused one too, so a loop cannot grow the
        record (or the worker's work) past the cap."""
        records: list[dict[str, Any]] = []
        try:
            self._check_count()
            request = fetch_rules.check_request(raw, self.limits.max_request_bytes)
            url = parse_url(request.url)
            left_s = deadline - time.monotonic()
            if request.timeout_s is not None:
                left_s = min(left_s, request.timeout_s)
            try:
                async with asyncio.timeout(max(left_s, 0)):
                    if left_s <= 0:
                        raise TimeoutError
                    return await self._follow(request, url, records), records
            except TimeoutError:
                raise FetchError(fetch_rules.TIMEOUT, f"no answer within {max(left_s, 0):.3g} s"
                                 " (the action's time left, or its timeout_s)") from None
        except FetchError as error:
            if records:
                records[-1]["error"] = records[-1]["error"] or error.reason
            else:
                if error.reason != fetch_rules.TOO_MANY_REQUESTS:
                    self.requests += 1
                records.append(_refusal_record(raw, error))
            return error_reply(error), records

    def _check_count(self) -> None:
        if self.requests >= self.limits.max_requests:
            raise FetchError(fetch_rules.TOO_MANY_REQUESTS, f"an execution may make "
                             f"{self.limits.max_requests} requests (redirects included)")

    async def _follow(self, request: FetchRequest, url: URL,
                      records: list[dict[str, Any]]) -> dict[str, Any]:
        method, headers, body = request.method, list(request.headers), request.body
        origin = _target(url)
        for hop in range(MAX_REDIRECTS + 1):
            status, response_headers, content = await self._one(method, url, headers, body,
                                                                records)
            location = _header(response_headers, "location")
            if status not in REDIRECT_STATUSES or location is None:
                return {"response": {"status": status, "headers": response_headers,
                                     "body": content, "url": str(url)[:fetch_rules.MAX_URL_CHARS],
                                     "redirected": hop > 0}}
            if hop == MAX_REDIRECTS:
                raise FetchError(fetch_rules.TOO_MANY_REDIRECTS,
                                 f"more than {MAX_REDIRECTS} redirects")
            try:
                url = url.join(URL(location)).with_fragment(None)
            except (ValueError, TypeError, UnicodeError):
                raise FetchError(fetch_rules.CONNECTION_FAILED,
                                 "the server redirected to a URL that does not parse") from None
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
            if _target(url) != origin:
                headers = [(n, v) for n, v in headers if n.lower() not in CREDENTIAL_HEADERS]
        raise AssertionError("unreachable")

    async def _one(self, method: str, url: URL, headers: list[tuple[str, str]],
                   body: bytes | None, records: list[dict[str, Any]]
                   ) -> tuple[int, list[list[str]], bytes]:
        """One hop, checked: count, allow-list, resolved addresses; then sent and read."""
        scheme, host, port = _target(url)
        self._check_count()
        self.requests += 1
        record = {"method": method, **_where(url), "status": None, "error": None,
                  "duration_ms": 0.0, "bytes": 0}
        records.append(record)
        started = time.monotonic()
        try:
            policy = await self._load_policy()
            if not policy.allows(scheme, host, port):
                raise FetchError(fetch_rules.HOST_NOT_ALLOWED,
                                 f"{scheme}://{host}:{port} is not on this tenant's egress "
                                 "allow-list")
            async with self.egress.in_flight:
                raw_host = url.raw_host or host
                try:
                    addresses = await resolve_checked(
                        raw_host, port, allow_loopback=self.limits.allow_loopback,
                        lookups=self.egress.dns, tenant=self.tenant)
                except AddressRefused as exc:
                    raise FetchError(fetch_rules.ADDRESS_NOT_ALLOWED, str(exc)) from None
                except NotResolved as exc:
                    raise FetchError(fetch_rules.CONNECTION_FAILED, str(exc)) from None
                session, resolver = self._session_and_resolver()
                resolver.pin(raw_host, port, addresses)
                return await self._send(session, method, url, headers, body, record)
        except FetchError as error:
            record["error"] = error.reason
            raise
        except asyncio.CancelledError:
            record["error"] = fetch_rules.TIMEOUT
            raise
        finally:
            record["duration_ms"] = round((time.monotonic() - started) * 1000, 3)

    async def _send(self, session: aiohttp.ClientSession, method: str, url: URL,
                    headers: list[tuple[str, str]], body: bytes | None,
                    record: dict[str, Any]) -> tuple[int, list[list[str]], bytes]:
        sent = [*headers, ("Accept-Encoding", "identity")]
        if not any(name.lower() == "user-agent" for name, _ in headers):
            sent.append(("User-Agent", USER_AGENT))
        try:
            async with session.request(method, url, headers=sent, data=body,
                                       allow_redirects=False) as response:
                record["status"] = response.status
                response_headers = _plain_headers(response.raw_headers)
                content = b"" if method == "HEAD" else await self._read_capped(response)
                record["bytes"] = len(content)
                return response.status, response_headers, content
        except FetchError:
            raise
        except aiohttp.ClientConnectorCertificateError as exc:
            raise FetchError(fetch_rules.CONNECTION_FAILED,
                             f"TLS certificate check failed: {exc.certificate_error}") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise FetchError(fetch_rules.CONNECTION_FAILED, _failure_text(exc, url)) from None

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self.limits.max_response_bytes
        too_large = FetchError(fetch_rules.TOO_LARGE, f"the response body is over the "
                               f"{cap}-byte limit")
        if response.content_length is not None and response.content_length > cap:
            raise too_large
        chunks = bytearray()
        while True:
            chunk = await response.content.read(64 * 1024)
            if not chunk:
                return bytes(chunks)
            chunks += chunk
            if len(chunks) > cap:
                raise too_large

    async def _load_policy(self) -> AllowList:
        if self._policy is None:
            try:
                self._policy = await self.egress.load_policy(self.tenant)
            except Exception as exc:  # Redis down: this request fails, the next one retries
                log.warning("loading the egress policy of %r: %s", self.tenant, exc)
                raise FetchError(fetch_rules.UNAVAILABLE,
                                 "the tenant's egress policy could not be read") from None
        return self._policy

    def _session_and_resolver(self) -> tuple[aiohttp.ClientSession, PinnedResolver]:
        if self._session is None or self._resolver is None:
            self._resolver = PinnedResolver()
            connector = aiohttp.TCPConnector(resolver=self._resolver, use_dns_cache=False,
                                             limit=4)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent", "Accept-Encoding"))
        return self._session, self._resolver


def _refusal_record(raw: Any, error: FetchError) -> dict[str, Any]:
    """The record of an ask refused before any hop: whatever of it parses."""
    method = raw.get("method", "GET") if type(raw) is dict else None
    record: dict[str, Any] = {"method": method if method in fetch_rules.METHODS else None,
                              "scheme": None, "host": None, "port": None, "path": None,
                              "status": None, "error": error.reason, "duration_ms": 0.0,
                              "bytes": 0}
    try:
        record.update(_where(parse_url(raw["url"])))
    except (FetchError, KeyError, TypeError):
        pass
    return record


def _failure_text(exc: BaseException, url: URL) -> str:
    """What failed, for the action and, uncaught, its execution record: never the query,
    which may carry a secret (aiohttp's ClientResponseError names the whole URL)."""
    text = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    for query in {url.raw_query_string, url.query_string} - {""}:
        text = text.replace(query, "...")
    return f"{type(exc).__name__}: {text[:300]}"


def _where(url: URL) -> dict[str, Any]:
    scheme, host, port = _target(url)
    # A refused ask's URL was never bounded (the frame holds up to 1 MiB): neither is its host.
    return {"scheme": scheme, "host": host[:MAX_HOST_CHARS], "port": port,
            "path": (url.raw_path or "/")[:MAX_RECORDED_PATH_CHARS]}


def _plain_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[list[str]]:
    """Response headers as text pairs (any bytes a server sends survive as UTF-8 with
    replacements, so they cross msgpack); FetchError past MAX_RESPONSE_HEADERS_BYTES."""
    total = sum(len(name) + len(value) for name, value in raw)
    if total > MAX_RESPONSE_HEADERS_BYTES:
        raise FetchError(fetch_rules.TOO_LARGE, "the response headers are over "
                         f"{MAX_RESPONSE_HEADERS_BYTES} bytes")
    return [[name.decode("utf-8", "replace"), value.decode("utf-8", "replace")]
            for name, value in raw]


def _header(headers: list[list[str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class ScopedRunner:
    """The pool as one execution's flow sees it: every run carries that execution's scope."""

    def __init__(self, pool: Any, scope: EgressScope | None) -> None:
        self.pool = pool
        self.scope = scope

    async def run(self, tenant: str, **kwargs: Any) -> Any:
        return await self.pool.run(tenant, egress=self.scope, **kwargs)


def requests_made(records: list[dict[str, Any]]) -> int:
    """How many requests the action records of a paused flow count (as EgressScope.fetch
    counted them: every ask but a refusal for being one too many)."""
    return sum(1 for record in records for call in record.get("fetches") or ()
               if call.get("error") != fetch_rules.TOO_MANY_REQUESTS)


def with_egress(flow_runner: Callable[..., Awaitable[Any]], egress: Egress
                ) -> Callable[..., Awaitable[Any]]:
    """`flow_runner` with one egress scope per call, closed when the flow ends. A continued
    flow is the same execution: its scope starts with the requests made before the pause."""
    async def run(pool: Any, *, tenant: str, **kwargs: Any) -> Any:
        async with egress.scope(tenant) as scope:
            resume = kwargs.get("resume")
            if resume is not None:
                scope.requests = requests_made(resume.records)
            runner = ScopedRunner(pool, scope) if pool is not None else None
            return await flow_runner(runner, tenant=tenant, **kwargs)
    return run
