"""A small pipelined Redis client for the request path.

Every request makes one or two Redis calls, so their cost is the gateway's cost: redis-py's
asyncio client spends most of a call in its pool, retry and timeout layers. This client keeps
one connection, writes each command as soon as it is made and matches replies to callers in
order (Redis answers a connection's commands in the order they arrived), parsing with hiredis.
A lost connection fails the calls in flight with ConnectionError; the next call reconnects.
"""

import asyncio
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

Arg = bytes | str | int | float


class RedisError(Exception):
    """An error reply from Redis."""


def _encode(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    return str(arg).encode()


def pack(args: tuple[Arg, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _encode(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(replyError=RedisError)
        self.waiting: deque[asyncio.Future[Any]] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            future = self.waiting.popleft()
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, RedisError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError("lost the connection to Redis"))


class Redis:
    def __init__(self, host: str, port: int, db: int = 0, password: str | None = None,
                 username: str | None = None) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    @classmethod
    def from_url(cls, url: str) -> "Redis":
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"REDIS_URL must be a redis:// URL, got {parts.scheme!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(parts.path.lstrip("/") or 0),
            password=unquote(parts.password) if parts.password else None,
            username=unquote(parts.username) if parts.username else None,
        )

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            protocol = self._protocol
            if protocol is not None and protocol.transport is not None:
                return protocol
            loop = asyncio.get_running_loop()
            _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
            self._protocol = protocol
            if self.password:
                auth = (self.username, self.password) if self.username else (self.password,)
                await self._send(protocol, ("AUTH", *auth))
            if self.db:
                await self._send(protocol, ("SELECT", self.db))
            return protocol

    async def _send(self, protocol: _Protocol, args: tuple[Arg, ...]) -> Any:
        transport = protocol.transport
        if transport is None:
            raise ConnectionError("lost the connection to Redis")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        protocol.waiting.append(future)
        transport.write(pack(args))
        return await future

    async def execute(self, *args: Arg) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.transport is None:
            protocol = await self._connect()
        return await self._send(protocol, args)

    async def ping(self) -> bool:
        return await self.execute("PING") == b"PONG"

    async def hget(self, key: str, field: str) -> bytes | None:
        result: bytes | None = await self.execute("HGET", key, field)
        return result

    async def hmget(self, key: str, fields: list[str]) -> list[bytes | None]:
        result: list[bytes | None] = await self.execute("HMGET", key, *fields)
        return result

    async def hgetall(self, key: str) -> dict[bytes, bytes]:
        flat = await self.execute("HGETALL", key)
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def register_script(self, source: str) -> "Script":
        return Script(self, source)

    async def aclose(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()


class Script:
    """EVALSHA, falling back to EVAL once when the server does not know the script yet."""

    def __init__(self, client: Redis, source: str) -> None:
        self.client = client
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)

    async def __call__(self, keys: list[str], args: list[Arg]) -> Any:
        try:
            return await self.client.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except RedisError as err:
            if not str(err).startswith("NOSCRIPT"):
                raise
            return await self.client.execute("EVAL", self.source, len(keys), *keys, *args)
