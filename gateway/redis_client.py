"""A small pipelined Redis client for the request path.

Every request makes two Redis calls (reserve and settle), so their cost is the gateway's cost:
redis-py's asyncio client spends most of a call in its pool, retry and timeout layers. This
client keeps one connection and matches replies to callers in order (Redis answers a
connection's commands in the order they arrived), parsing with hiredis. Commands made in the
same turn of the event loop go out in one write (automatic pipelining): a socket write costs
more than the rest of a call, and under load dozens of requests reserve or settle in one turn.

Robustness rules, each one a way money could go wrong:
- every call has a deadline (`timeout`, connect and reply); a call that misses it raises
  RedisUnavailable and the connection is dropped (with every call in flight on it: their
  replies would queue behind the missing one), and the next call reconnects;
- a new connection is handed out only after its AUTH and SELECT have succeeded, so no command
  can ever run as the wrong user or on database 0; a failing AUTH or SELECT closes it and
  raises RedisUnavailable with Redis's own message;
- `rediss://` URLs connect over TLS (`?ssl_cert_reqs=none` skips verifying the certificate,
  `ssl_ca_certs=<file>` trusts a private CA).
"""

import asyncio
import hashlib
import ssl
from collections import deque
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

Arg = bytes | str | int | float


class RedisError(Exception):
    """An error reply from Redis."""


class RedisUnavailable(ConnectionError):
    """Redis could not be reached, or did not answer within the client's timeout."""


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
    """One connection; replies are matched to callers in order.

    The reply deadline is kept by one watchdog timer per connection rather than one timer per
    call (asyncio.timeout costs more than the rest of a call): it wakes when the oldest call
    in flight is due and, if that call is still unanswered, closes the connection, which fails
    every call in flight on it.
    """

    def __init__(self, timeout: float) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(replyError=RedisError)
        # (caller, when its command was queued), oldest first: the order of the bytes written
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.timeout = timeout
        self._watchdog: asyncio.TimerHandle | None = None
        # Commands queued in this turn of the loop, written together by `_flush`.
        self._outgoing: list[bytes] = []

    def send(self, future: "asyncio.Future[Any]", now: float, command: bytes) -> None:
        """Queue a command whose reply resolves `future`; it is written at the end of the turn."""
        self.waiting.append((future, now))
        if not self._outgoing:
            future.get_loop().call_soon(self._flush)
        self._outgoing.append(command)
        if self._watchdog is None:
            self._watchdog = future.get_loop().call_at(now + self.timeout, self._check)

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        # A connection closed meanwhile has failed (or will fail) every caller in `waiting`.
        if self.transport is not None:
            self.transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))

    def _check(self) -> None:
        self._watchdog = None
        if not self.waiting:
            return
        future, sent = self.waiting[0]
        loop = future.get_loop()
        if loop.time() - sent >= self.timeout:
            self._fail(RedisUnavailable(f"Redis did not answer within {self.timeout:g}s"))
            self.close()
        else:
            self._watchdog = loop.call_at(sent + self.timeout, self._check)

    def _fail(self, exc: Exception) -> None:
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            future, _ = self.waiting.popleft()
            if future.done():  # its caller was cancelled or timed out
                continue
            if isinstance(reply, RedisError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._outgoing.clear()
        self._fail(RedisUnavailable("lost the connection to Redis"))
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            # connection_lost comes on a later loop turn; nobody may write here meanwhile.
            self.transport = None


def ssl_context(query: dict[str, list[str]]) -> ssl.SSLContext:
    cafile = query.get("ssl_ca_certs")
    context = ssl.create_default_context(cafile=cafile[0] if cafile else None)
    if (query.get("ssl_cert_reqs") or [""])[0].lower() in ("none", "optional"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Commands:
    """The commands the gateway uses, over `execute` (one server, or a cluster)."""

    async def execute(self, *args: Arg) -> Any:
        raise NotImplementedError

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
        raise NotImplementedError


class Redis(Commands):
    def __init__(self, host: str, port: int, db: int = 0, password: str | None = None,
                 username: str | None = None, *, timeout: float = 1.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.timeout = timeout
        self.tls = tls
        self._protocol: _Protocol | None = None  # only ever a connection ready for commands
        self._connecting: asyncio.Lock | None = None

    @classmethod
    def from_url(cls, url: str, timeout: float = 1.0) -> "Redis":
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must be a redis:// or rediss:// URL, got {parts.scheme!r}")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(parts.path.lstrip("/") or 0),
            password=unquote(parts.password) if parts.password else None,
            username=unquote(parts.username) if parts.username else None,
            timeout=timeout,
            tls=ssl_context(query) if parts.scheme == "rediss" else None,
        )

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            protocol = self._protocol
            if protocol is not None and protocol.transport is not None:
                return protocol
            self._protocol = None
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self.timeout):
                    _, protocol = await loop.create_connection(
                        lambda: _Protocol(self.timeout), self.host, self.port, ssl=self.tls,
                        server_hostname=self.host if self.tls else None)
            except (OSError, TimeoutError) as exc:
                raise RedisUnavailable(f"cannot connect to Redis at {self.host}:{self.port}: "
                                       f"{exc.__class__.__name__}: {exc}") from None
            setup: list[tuple[Arg, ...]] = []
            if self.password:
                setup.append(("AUTH", self.username, self.password) if self.username
                             else ("AUTH", self.password))
            if self.db:
                setup.append(("SELECT", self.db))
            try:
                # Sent on the new connection only: it is not published in self._protocol
                # until both succeed, so no other caller can write a command before them.
                await asyncio.gather(*(self._send(protocol, args) for args in setup))
            except RedisError as exc:
                protocol.close()
                raise RedisUnavailable(f"Redis refused AUTH or SELECT: {exc}") from None
            except BaseException:
                protocol.close()
                raise
            self._protocol = protocol
            return protocol

    async def _send(self, protocol: _Protocol, args: tuple[Arg, ...]) -> Any:
        if protocol.transport is None:
            raise RedisUnavailable("lost the connection to Redis")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        protocol.send(future, loop.time(), pack(args))
        return await future

    async def execute(self, *args: Arg) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.transport is None:
            protocol = await self._connect()
        return await self._send(protocol, args)

    async def aclose(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.close()


class Script:
    """EVALSHA, falling back to EVAL once when the server does not know the script yet."""

    def __init__(self, client: Commands, source: str) -> None:
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
