"""The continuation store on a real redis-server: claim once, release, reissue, expiry, hashes only."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from runtime import keys
from runtime.errors import ApiError
from runtime.jobs import now_ms
from runtime.store import continuations

EXECUTION = "a" * 32
STATE = {"trigger": "post-login", "event": {"user": {"user_id": "u"}}, "effects": [],
         "records": [], "position": 0, "actions": []}


async def paused(redis: aioredis.Redis, ttl_s: int = 60, spent: list[str] | None = None) -> str:
    token, digest = continuations.new_token()
    pipe = redis.pipeline(transaction=True)
    continuations.queue_pause(pipe, "acme", EXECUTION, token_sha256=digest, spent=spent or [],
                              state=STATE, ttl_s=ttl_s, now_ms=now_ms())
    await pipe.execute()
    return token


async def refused(coro: object) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        await coro  # type: ignore[misc]
    return caught.value.status, caught.value.code


async def test_only_the_hash_is_stored_and_a_claim_works_once(aredis: aioredis.Redis) -> None:
    token = await paused(aredis)
    stored = b"".join(v for v in (await aredis.hgetall(keys.continuation("acme", EXECUTION))).values())
    assert token.encode() not in stored
    assert continuations.token_sha256(token).encode() in stored
    state, spent = await continuations.claim(aredis, "acme", EXECUTION, token, now_ms())
    assert state == STATE and spent == [continuations.token_sha256(token)]
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, token, now_ms())) == (
        409, "continuation_used")


async def test_concurrent_claims_one_wins(aredis: aioredis.Redis) -> None:
    token = await paused(aredis)
    results = await asyncio.gather(
        *(continuations.claim(aredis, "acme", EXECUTION, token, now_ms()) for _ in range(8)),
        return_exceptions=True)
    wins = [r for r in results if isinstance(r, tuple)]
    losses = [r for r in results if isinstance(r, ApiError)]
    assert len(wins) == 1 and len(losses) == 7
    assert {e.code for e in losses} == {"continuation_used"}


async def test_not_found_foreign_and_forged(aredis: aioredis.Redis) -> None:
    token = await paused(aredis)
    assert await refused(continuations.claim(aredis, "globex", EXECUTION, token, now_ms())) == (
        404, "continuation_not_found")
    assert await refused(continuations.claim(aredis, "acme", "b" * 32, token, now_ms())) == (
        404, "continuation_not_found")
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, token + "x",
                                             now_ms())) == (404, "continuation_not_found")


async def test_expired_is_told_apart(aredis: aioredis.Redis) -> None:
    token = await paused(aredis, ttl_s=60)
    later = now_ms() + 61_000
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, token, later)) == (
        410, "continuation_expired")
    await aredis.delete(keys.continuation_state("acme", EXECUTION))  # Redis expired the state
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, token, now_ms())) == (
        410, "continuation_expired")
    assert await aredis.ttl(keys.continuation("acme", EXECUTION)) > continuations.TOMBSTONE_S


async def test_release_makes_the_token_usable_again(aredis: aioredis.Redis) -> None:
    token = await paused(aredis)
    await continuations.claim(aredis, "acme", EXECUTION, token, now_ms())
    await continuations.release(aredis, "acme", EXECUTION, "not-the-token")
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, token, now_ms())) == (
        409, "continuation_used")
    await continuations.release(aredis, "acme", EXECUTION, token)
    state, _ = await continuations.claim(aredis, "acme", EXECUTION, token, now_ms())
    assert state == STATE


async def test_reissue_replaces_the_token(aredis: aioredis.Redis) -> None:
    first = await paused(aredis)
    second = await continuations.reissue(aredis, "acme", EXECUTION, now_ms())
    assert second is not None and second != first
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, first, now_ms())) == (
        409, "continuation_used")
    await continuations.claim(aredis, "acme", EXECUTION, second, now_ms())
    assert await continuations.reissue(aredis, "acme", EXECUTION, now_ms()) is None  # used
    assert await continuations.reissue(aredis, "acme", "c" * 32, now_ms()) is None  # absent


async def test_a_repause_remembers_earlier_tokens(aredis: aioredis.Redis) -> None:
    old = await paused(aredis)
    _, spent = await continuations.claim(aredis, "acme", EXECUTION, old, now_ms())
    new = await paused(aredis, spent=spent)
    assert await refused(continuations.claim(aredis, "acme", EXECUTION, old, now_ms())) == (
        409, "continuation_used")
    state, spent = await continuations.claim(aredis, "acme", EXECUTION, new, now_ms())
    assert state == STATE and len(spent) == 2
