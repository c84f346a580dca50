"""Request and response plumbing: app keys, body parsing, content negotiation, JSON errors."""
from __future__ import annotations

import json
import logging
from typing import Any

import msgpack
import redis.exceptions
from aiohttp import hdrs, web
from redis.asyncio import Redis

from runtime.errors import ApiError
from runtime.settings import Settings

log = logging.getLogger("runtime.gateway.http")

REDIS_KEY: web.AppKey[Redis] = web.AppKey("redis", Redis)
SETTINGS_KEY: web.AppKey[Settings] = web.AppKey("settings", Settings)

JSON = "application/json"
MSGPACK = "application/msgpack"
MSGPACK_TYPES = frozenset({MSGPACK, "application/x-msgpack"})
JSON_CHARSETS = frozenset({None, "utf-8", "utf8"})
REDIS_RETRY_AFTER_S = "1"
# Deeper bodies are refused: msgpack (jobs, replies) stops at 512 levels and copies recurse.
MAX_BODY_DEPTH = 64
INT_MIN, UINT_MAX = -(2**63), 2**64 - 1  # what msgpack can carry

# Status codes aiohttp raises itself (router, body reader) and the error code we give them.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def redis_of(request: web.Request) -> Redis:
    return request.app[REDIS_KEY]


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS_KEY]


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would make documents we cannot echo back.
    raise ValueError(f"{name} is not valid JSON")


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not accepted")


def decode_body(raw: bytes, content_type: str, charset: str | None) -> Any:
    """Decode a JSON or msgpack body; raises ApiError 400/415."""
    if content_type in MSGPACK_TYPES:
        try:
            return msgpack.unpackb(raw, raw=False, strict_map_key=True, ext_hook=_refuse_ext)
        except Exception as exc:
            raise ApiError(400, "malformed_body", f"body is not valid msgpack: {exc}") from None
    if content_type != JSON:
        raise ApiError(
            415, "unsupported_media_type",
            f"content type {content_type!r} is not accepted; send {JSON} or {MSGPACK}",
        )
    if charset not in JSON_CHARSETS:
        raise ApiError(415, "unsupported_media_type", f"JSON must be UTF-8, not {charset!r}")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_body", "body is not valid UTF-8") from None
    except RecursionError:
        raise ApiError(400, "malformed_body", "body is nested too deeply") from None
    except ValueError as exc:
        raise ApiError(400, "malformed_body", f"body is not valid JSON: {exc}") from None


async def read_body(request: web.Request) -> dict[str, Any]:
    """The request body as a dict: JSON (any UTF-8 charset) or msgpack.

    400 malformed_body / body_not_object / empty_body, 413 body_too_large,
    415 unsupported_media_type. A missing Content-Type is read as JSON (curl-friendly).
    """
    declared = hdrs.CONTENT_TYPE in request.headers
    content_type = request.content_type if declared else JSON
    charset = request.charset.lower() if declared and request.charset else None
    if declared and content_type != JSON and content_type not in MSGPACK_TYPES:
        # Refuse before reading: no point buffering a body we will not parse.
        decode_body(b"", content_type, charset)
    raw = await request.read()  # raises HTTPRequestEntityTooLarge past client_max_size
    if not raw:
        raise ApiError(400, "empty_body", "a request body is required")
    body = decode_body(raw, content_type, charset)
    if not isinstance(body, dict):
        raise ApiError(400, "body_not_object", "the body must be an object")
    check_representable(body)
    return body


def check_representable(body: Any) -> None:
    """Refuse what the rest of the service cannot carry (jobs and records are msgpack):
    nesting past MAX_BODY_DEPTH, integers outside 64 bits, strings that are not valid UTF-8
    (lone surrogates from JSON escapes). Iterative, so no recursion limit to hit."""
    stack = [(body, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise ApiError(400, "invalid_string",
                                   "the body holds a string with a lone surrogate") from None
            continue
        if isinstance(item, int) and not isinstance(item, bool):
            if not INT_MIN <= item <= UINT_MAX:
                raise ApiError(400, "integer_out_of_range",
                               "the body holds an integer outside 64 bits")
            continue
        if isinstance(item, dict):
            children: Any = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_BODY_DEPTH:
            raise ApiError(400, "body_too_deep",
                           f"the body nests objects and arrays deeper than {MAX_BODY_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def wants_msgpack(request: web.Request) -> bool:
    accept = request.headers.get(hdrs.ACCEPT, "")
    return any(part.split(";")[0].strip() in MSGPACK_TYPES for part in accept.split(","))


def respond(
    request: web.Request,
    data: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """JSON, or msgpack when the caller sends `Accept: application/msgpack`."""
    if wants_msgpack(request):
        body = msgpack.packb(data, use_bin_type=True)
        return web.Response(body=body, status=status, content_type=MSGPACK, headers=headers)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(
        body=text.encode("utf-8"), status=status, content_type=JSON, charset="utf-8",
        headers=headers,
    )


def error_response(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    details: object | None = None,
) -> web.Response:
    error: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return respond(request, {"error": error}, status, headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Render every failure as `{"error": {"code", "message"}}`; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            request, exc.status, exc.code, exc.message, headers=exc.headers, details=exc.details
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_ERROR_CODES.get(exc.status, "http_error")
        headers = {k: v for k, v in exc.headers.items() if k == hdrs.ALLOW}
        return error_response(request, exc.status, code, exc.reason, headers=headers)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        log.warning("redis unavailable on %s %s: %s", request.method, request.path, exc)
        return error_response(
            request, 503, "redis_unavailable", "the store is unavailable; retry shortly",
            headers={hdrs.RETRY_AFTER: REDIS_RETRY_AFTER_S},
        )
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, 500, "internal_error", "internal error")
