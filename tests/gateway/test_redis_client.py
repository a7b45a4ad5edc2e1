"""The gateway's own Redis client: pipelined replies reach the right caller, scripts load
themselves, and a lost connection is survived."""

import asyncio
import hashlib
from typing import Any

import pytest
from django.conf import settings

from gateway.redis_client import Redis, RedisError
from tests.aio import run


def test_concurrent_calls_get_their_own_replies(redis_client) -> None:
    redis_client.hset("h", mapping={f"f{i}": f"v{i}" for i in range(200)})

    async def scenario() -> list[bytes | None]:
        client = Redis.from_url(settings.REDIS_URL)
        try:
            return await asyncio.gather(*(client.hget("h", f"f{i}") for i in range(200)))
        finally:
            await client.aclose()

    assert run(scenario()) == [f"v{i}".encode() for i in range(200)]


def test_hgetall_and_hmget_shapes(redis_client) -> None:
    redis_client.hset("acct", mapping={"credits": 5, "spent": 2})

    async def scenario() -> tuple[Any, Any, Any]:
        client = Redis.from_url(settings.REDIS_URL)
        try:
            return (await client.hgetall("acct"), await client.hgetall("missing"),
                    await client.hmget("acct", ["spent", "nope"]))
        finally:
            await client.aclose()

    full, empty, some = run(scenario())
    assert full == {b"credits": b"5", b"spent": b"2"}
    assert empty == {}
    assert some == [b"2", None]


def test_script_loads_itself_then_runs_by_sha(redis_client) -> None:
    redis_client.script_flush()

    async def scenario() -> tuple[Any, Any]:
        client = Redis.from_url(settings.REDIS_URL)
        script = client.register_script("return {KEYS[1], tonumber(ARGV[1]) * 2}")
        try:
            return await script(keys=["k"], args=[21]), await script(keys=["k"], args=[4])
        finally:
            await client.aclose()

    assert run(scenario()) == ([b"k", 42], [b"k", 8])
    source = "return {KEYS[1], tonumber(ARGV[1]) * 2}"
    assert redis_client.script_exists(hashlib.sha1(source.encode()).hexdigest()) == [True]


def test_error_replies_raise_and_the_connection_keeps_working(redis_client) -> None:
    redis_client.set("plain", "x")

    async def scenario() -> bytes | None:
        client = Redis.from_url(settings.REDIS_URL)
        try:
            with pytest.raises(RedisError, match="WRONGTYPE"):
                await client.hget("plain", "field")
            return await client.execute("GET", "plain")
        finally:
            await client.aclose()

    assert run(scenario()) == b"x"


def test_reconnects_after_the_server_drops_the_connection(redis_client) -> None:
    async def scenario() -> bool:
        client = Redis.from_url(settings.REDIS_URL)
        try:
            # Only this client's connection: other xdist workers share the server.
            redis_client.client_kill_filter(_id=await client.execute("CLIENT", "ID"))
            await asyncio.sleep(0.1)
            return await client.ping()
        finally:
            await client.aclose()

    assert run(scenario()) is True


def test_unreachable_server_raises_connection_error() -> None:
    async def scenario() -> None:
        await Redis.from_url("redis://127.0.0.1:1/0").ping()

    with pytest.raises(OSError):
        run(scenario())



class CountingTransport:
    """The connection's transport, counting the socket writes asked of it."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def test_commands_of_one_turn_go_out_in_one_write(redis_client) -> None:
    """Automatic pipelining: 200 requests reserving in the same turn of the loop cost one
    socket write, not 200 (a write costs more than the rest of a call); each caller still
    gets its own reply, in order."""

    async def scenario() -> tuple[list[int], int, int]:
        client = Redis.from_url(settings.REDIS_URL)
        try:
            await client.ping()  # connected
            protocol = client._protocol
            assert protocol is not None
            counting = CountingTransport(protocol.transport)
            protocol.transport = counting  # type: ignore[assignment]
            replies = await asyncio.gather(*(client.execute("INCR", "n") for _ in range(200)))
            burst = counting.writes
            await client.execute("INCR", "n")  # a later turn: a write of its own
            return replies, burst, counting.writes - burst
        finally:
            await client.aclose()

    replies, burst, later = run(scenario())
    assert replies == list(range(1, 201))
    assert (burst, later) == (1, 1)
