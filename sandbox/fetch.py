"""`fetch()` for actions: the request is checked here, sent over the child's pipe, made by the worker.

The child has no network (seccomp). `fetch` validates its arguments (good messages, early),
turns them into a plain request map and hands it to the run's transport, which writes it to
the worker and waits for the worker's answer. The worker checks the same map again with
`check_request` (a hostile child sends whatever it likes), applies the tenant's egress
policy and makes the request (worker/egress.py). Every refusal arrives as a FetchError.
"""
from __future__ import annotations

import dataclasses
import json as json_module
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.errors import SandboxError
from sandbox.limits import Limits
from sandbox.plain import to_plain

# FetchError reasons: what an action may test `error.reason` against.
HOST_NOT_ALLOWED = "host_not_allowed"
ADDRESS_NOT_ALLOWED = "address_not_allowed"
TIMEOUT = "timeout"
TOO_LARGE = "too_large"
TOO_MANY_REQUESTS = "too_many_requests"
TOO_MANY_REDIRECTS = "too_many_redirects"
INVALID_REQUEST = "invalid_request"
CONNECTION_FAILED = "connection_failed"
UNAVAILABLE = "unavailable"
REASONS = frozenset({HOST_NOT_ALLOWED, ADDRESS_NOT_ALLOWED, TIMEOUT, TOO_LARGE,
                     TOO_MANY_REQUESTS, TOO_MANY_REDIRECTS, INVALID_REQUEST, CONNECTION_FAILED,
                     UNAVAILABLE})

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODYLESS_METHODS = frozenset({"GET", "HEAD"})
# The protocol's ceilings; the worker's settings may be lower (ACTIONS_EGRESS_MAX_*).
MAX_URL_CHARS = 8192
MAX_REQUEST_BYTES = 512 * 1024  # a fetch frame must fit the child's 1 MiB reply frames
MAX_HEADERS = 64
MAX_HEADER_NAME_CHARS = 256
MAX_HEADER_VALUE_CHARS = 8192
MAX_HEADERS_BYTES = 32 * 1024
MAX_TIMEOUT_S = 3600.0
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field-name
_BAD_VALUE = re.compile(r"[^\t\x20-\x7e]")  # visible ASCII, space and tab only
_BAD_URL = re.compile(r"[\x00-\x20\x7f]")
# Framing, routing and connection headers are the worker's to set; a Cookie would smuggle
# state the runtime promises not to keep; Accept-Encoding: the worker asks for identity.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
    "te", "trailer", "expect", "cookie", "cookie2", "accept-encoding", "http2-settings",
})
REQUEST_KEYS = frozenset({"url", "method", "headers", "body", "timeout_s"})


class FetchError(SandboxError):
    """Raised inside the action when fetch() is refused or fails; `reason` says why (REASONS)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"fetch: {message} ({reason})")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class FetchRequest:
    """A checked request: what crosses the pipe, as both sides read it."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    timeout_s: float | None = None

    def to_frame(self) -> dict[str, Any]:
        return {"url": self.url, "method": self.method,
                "headers": [list(pair) for pair in self.headers], "body": self.body,
                "timeout_s": self.timeout_s}


def _invalid(problem: str) -> FetchError:
    return FetchError(INVALID_REQUEST, problem)


def _check_headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if type(raw) is not list or len(raw) > MAX_HEADERS:
        raise _invalid(f"headers: at most {MAX_HEADERS} name/value pairs")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    total = 0
    for pair in raw:
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise _invalid("headers: each header is a name and a value")
        name, value = pair
        if type(name) is not str or not 0 < len(name) <= MAX_HEADER_NAME_CHARS or (
                _TOKEN.fullmatch(name) is None):
            raise _invalid(f"header name {str(name)[:64]!r} is not an HTTP token")
        lower = name.lower()
        if lower in FORBIDDEN_HEADERS or lower.startswith("proxy-"):
            raise _invalid(f"header {name!r} is set by the runtime, not by actions")
        if lower in seen:
            raise _invalid(f"header {name!r} is given twice")
        seen.add(lower)
        if type(value) is not str or len(value) > MAX_HEADER_VALUE_CHARS:
            raise _invalid(f"header {name!r}: the value must be a str of at most "
                           f"{MAX_HEADER_VALUE_CHARS} characters")
        if _BAD_VALUE.search(value):
            raise _invalid(f"header {name!r}: the value may hold only visible ASCII, "
                           "spaces and tabs")
        total += len(name) + len(value) + 4
        if total > MAX_HEADERS_BYTES:
            raise _invalid(f"headers are over {MAX_HEADERS_BYTES} bytes in total")
        pairs.append((name, value))
    return tuple(pairs)


def check_request(raw: Any, max_request_bytes: int = MAX_REQUEST_BYTES) -> FetchRequest:
    """The request map a child sends, checked field by field; FetchError if it is not one."""
    if type(raw) is not dict or not set(raw) <= REQUEST_KEYS or "url" not in raw:
        raise _invalid("a request is a map of url, method, headers, body and timeout_s")
    url, method = raw["url"], raw.get("method", "GET")
    if type(url) is not str or not 0 < len(url) <= MAX_URL_CHARS:
        raise _invalid(f"url must be a str of 1 to {MAX_URL_CHARS} characters")
    if not url[:8].lower().startswith(("https://", "http://")):
        raise _invalid("url must start with https:// or http://")
    if _BAD_URL.search(url):
        raise _invalid("url must not contain spaces or control characters")
    if type(method) is not str or method not in METHODS:
        raise _invalid(f"method must be one of {', '.join(sorted(METHODS))}")
    headers = _check_headers(raw.get("headers") or [])
    body = raw.get("body")
    if body is not None:
        if type(body) is not bytes:
            raise _invalid("body must be bytes")
        if method in BODYLESS_METHODS:
            raise _invalid(f"a {method} request has no body")
        if len(body) > max_request_bytes:
            raise FetchError(TOO_LARGE, f"the request body is {len(body)} bytes; "
                             f"the limit is {max_request_bytes}")
    timeout_s = raw.get("timeout_s")
    if timeout_s is not None:
        if type(timeout_s) not in (int, float) or not (
                math.isfinite(timeout_s) and 0 < timeout_s <= MAX_TIMEOUT_S):
            raise _invalid("timeout_s must be a positive number of seconds")
        timeout_s = float(timeout_s)
    return FetchRequest(url=url, method=method, headers=headers, body=body,
                        timeout_s=timeout_s)


def _body_of(json: Any, data: Any, limits: Limits) -> tuple[bytes | None, str | None]:
    """The body bytes and the content type they imply."""
    if json is not None and data is not None:
        raise _invalid("pass json= or data=, not both")
    if json is not None:
        try:
            plain = to_plain(json, dataclasses.replace(
                limits, effect_value_limit_bytes=MAX_REQUEST_BYTES))
        except ApiUsageError as exc:
            raise _invalid(f"json: {exc}") from None
        return (json_module.dumps(plain, ensure_ascii=False, separators=(",", ":"))
                .encode("utf-8"), "application/json")
    if data is None:
        return None, None
    if type(data) is str:
        if len(data) > MAX_REQUEST_BYTES:
            raise FetchError(TOO_LARGE, f"the request body is over {MAX_REQUEST_BYTES} bytes")
        return data.encode("utf-8", "backslashreplace"), "text/plain; charset=utf-8"
    if type(data) in (bytes, bytearray):
        return bytes(data), "application/octet-stream"
    if type(data) is dict:
        if len(data) > 1024 or not all(type(k) is str and type(v) is str for k, v in data.items()):
            raise _invalid("data as a dict is a form: at most 1024 str keys and str values")
        return (urllib.parse.urlencode(data).encode("ascii"),
                "application/x-www-form-urlencoded")
    raise _invalid("data must be a str, bytes or a dict of str (a form)")


def _header_pairs(headers: Any) -> list[list[str]]:
    if headers is None:
        return []
    if type(headers) is not dict:
        raise _invalid("headers must be a dict of str names to str values")
    if len(headers) > MAX_HEADERS:
        raise _invalid(f"headers: at most {MAX_HEADERS}")
    return [[name, value] for name, value in headers.items()]


class Headers:
    """A response's headers: read-only, names case-insensitive, repeated ones joined by ", "."""

    __slots__ = ("_values",)
    _values: dict[str, str]

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        values: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            values[key] = f"{values[key]}, {value}" if key in values else value
        object.__setattr__(self, "_values", values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError("response headers are read-only")

    def __getitem__(self, name: str) -> str:
        if type(name) is not str:
            raise KeyError(name)
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return type(name) is str and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<Headers {sorted(self._values)}>"

    def get(self, name: str, default: Any = None) -> Any:
        if type(name) is not str:
            return default
        return self._values.get(name.lower(), default)

    def keys(self) -> tuple[str, ...]:
        return tuple(self._values)

    def values(self) -> tuple[str, ...]:
        return tuple(self._values.values())

    def items(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._values.items())


_TEXT_CODECS = {"utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8",
                "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1"}


def _charset(content_type: str | None) -> str:
    """The codec for a Content-Type's charset: UTF-8 unless it names Latin-1."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            return _TEXT_CODECS.get(value.strip().strip('"').lower(), "utf-8")
    return "utf-8"


class Response:
    """What fetch() returns: `status`, `ok`, `headers`, `text`, `content` (bytes), `url`
    (after redirects), `redirected`, and `json()`. Read-only."""

    __slots__ = ("content", "headers", "ok", "redirected", "status", "text", "url")
    status: int
    ok: bool
    headers: Headers
    content: bytes
    text: str
    url: str
    redirected: bool

    def __init__(self, status: int, headers: list[tuple[str, str]], content: bytes, url: str,
                 redirected: bool) -> None:
        fields = {"status": status, "ok": 200 <= status <= 299, "headers": Headers(headers),
                  "content": content, "url": url, "redirected": redirected}
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        codec = _charset(self.headers.get("content-type"))
        object.__setattr__(self, "text", content.decode(codec, "replace"))

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError("a fetch response is read-only")

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.url[:200]}>"

    def json(self) -> Any:
        """The body parsed as JSON; ValueError if it is not JSON."""
        try:
            return json_module.loads(self.text, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError("the response body is nested too deeply to parse") from None
        except ValueError as exc:
            raise ValueError(f"the response body is not JSON: {str(exc)[:200]}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


Transport = Callable[[dict[str, Any]], Mapping[str, Any]]


def response_of(reply: Mapping[str, Any]) -> Response:
    """The worker's answer as a Response, or the FetchError it carries."""
    error = reply.get("error")
    if error is not None:
        reason = error.get("reason") if type(error) is dict else None
        message = error.get("message") if type(error) is dict else None
        raise FetchError(reason if reason in REASONS else CONNECTION_FAILED,
                         str(message)[:1024] if message else "the request failed")
    data = reply.get("response")
    if type(data) is not dict:
        raise FetchError(CONNECTION_FAILED, "the worker sent no response")
    headers = [(str(k), str(v)) for k, v in data.get("headers") or []]
    return Response(int(data["status"]), headers, bytes(data.get("body") or b""),
                    str(data.get("url") or ""), data.get("redirected") is True)


class Fetcher:
    """One run's fetch(): knows the run's transport; after the worker refused a request for
    being one too many it refuses the next ones itself (an honest child stops asking)."""

    __slots__ = ("_exhausted", "_limits", "_transport")

    def __init__(self, transport: Transport | None, limits: Limits) -> None:
        self._transport = transport
        self._limits = limits
        self._exhausted = False

    def fetch(self, url: Any, method: Any = "GET", headers: Any = None, json: Any = None,
              data: Any = None, timeout_s: Any = None) -> Response:
        """fetch(url, method="GET", headers=None, json=None, data=None, timeout_s=None)"""
        if type(method) is str:
            method = method.upper()
        pairs = _header_pairs(headers)
        body, content_type = _body_of(json, data, self._limits)
        if content_type and not any(name.lower() == "content-type" for name, _ in pairs):
            pairs.append(["Content-Type", content_type])
        request = check_request({"url": url, "method": method, "headers": pairs, "body": body,
                                 "timeout_s": timeout_s})
        if self._exhausted:
            raise FetchError(TOO_MANY_REQUESTS, "this execution made all the requests it may")
        if self._transport is None:
            raise FetchError(UNAVAILABLE, "no worker makes requests for this run")
        reply = self._transport(request.to_frame())
        try:
            return response_of(reply)
        except FetchError as exc:
            if exc.reason == TOO_MANY_REQUESTS:
                self._exhausted = True
            raise


def fetch_builtins(transport: Transport | None, limits: Limits) -> dict[str, Any]:
    """The names an action sees: `fetch` and `FetchError`."""
    return {"fetch": Fetcher(transport, limits).fetch, "FetchError": FetchError}
