"""The gateway's Redis client for a Redis Cluster (`REDIS_CLUSTER=1`).

Every command the gateway sends names its keys first (a script: after its key count), and
every script's keys share one hash tag (gateway/keys.py), so each command goes to one node:
the one that serves the slot of its first key. The slot map comes from `CLUSTER SLOTS` and
follows the cluster as it changes: `MOVED` updates one slot and reloads the map, `ASK` sends
`ASKING` and the command to the importing node on one connection, `TRYAGAIN`/`CLUSTERDOWN`
retry shortly. One pipelined connection per node (gateway/redis_client.py), with its timeout.
"""

import asyncio
import functools
import logging
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from gateway.redis_client import Arg, Commands, Redis, RedisError, RedisUnavailable, ssl_context

log = logging.getLogger(__name__)

SLOTS = 16384
REDIRECTS = 5
Address = tuple[str, int]


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), as Redis Cluster hashes keys."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


@functools.lru_cache(maxsize=65536)
def key_slot(key: bytes) -> int:
    """The slot of a key: of its hash tag (the first non-empty `{...}`) if it has one."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key) % SLOTS


def _as_bytes(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode()


def first_key(args: tuple[Arg, ...]) -> bytes | None:
    command = _as_bytes(args[0]).upper()
    if command in (b"EVAL", b"EVALSHA"):
        return _as_bytes(args[3]) if len(args) > 3 and int(args[2]) > 0 else None
    if command in (b"PING", b"ASKING", b"CLUSTER", b"INFO"):
        return None
    return _as_bytes(args[1]) if len(args) > 1 else None


class ClusterRedis(Commands):
    def __init__(self, seeds: list[Address], password: str | None = None,
                 username: str | None = None, *, timeout: float = 1.0,
                 tls: Any = None) -> None:
        self.seeds = seeds
        self.password, self.username = password, username
        self.timeout = timeout
        self.tls = tls
        self.nodes: dict[Address, Redis] = {}
        self.slots: list[Address | None] = [None] * SLOTS
        self._refresh: asyncio.Future[None] | None = None
        self._background: set[asyncio.Future[None]] = set()

    @classmethod
    def from_url(cls, url: str, timeout: float = 1.0) -> "ClusterRedis":
        """`redis://[:password@]host:port[,host:port...]` (rediss:// for TLS); any node will
        do as a seed, more are tried in turn. A cluster has only database 0."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must be a redis:// or rediss:// URL, got {parts.scheme!r}")
        hosts = parts.netloc.rpartition("@")[2]
        seeds = []
        for item in hosts.split(","):
            host, _, port = item.rpartition(":")
            seeds.append((host or "127.0.0.1", int(port or 6379)))
        return cls(
            seeds,
            password=unquote(parts.password) if parts.password else None,
            username=unquote(parts.username) if parts.username else None,
            timeout=timeout,
            tls=ssl_context(parse_qs(parts.query)) if parts.scheme == "rediss" else None,
        )

    def node(self, address: Address) -> Redis:
        client = self.nodes.get(address)
        if client is None:
            client = Redis(address[0], address[1], 0, self.password, self.username,
                           timeout=self.timeout, tls=self.tls)
            self.nodes[address] = client
        return client

    async def refresh(self) -> None:
        """Reload the slot map; concurrent callers share one reload."""
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.ensure_future(self._load_slots())
        await asyncio.shield(self._refresh)

    async def _load_slots(self) -> None:
        last: Exception | None = None
        for address in [*self.nodes, *self.seeds]:
            try:
                ranges = await self.node(address).execute("CLUSTER", "SLOTS")
            except (RedisUnavailable, RedisError) as exc:
                last = exc
                continue
            slots: list[Address | None] = [None] * SLOTS
            for start, end, master, *_ in ranges:
                owner = (master[0].decode() or address[0], int(master[1]))
                for slot in range(int(start), int(end) + 1):
                    slots[slot] = owner
            self.slots = slots
            return
        raise RedisUnavailable(f"no cluster node answered CLUSTER SLOTS: {last}")

    async def execute(self, *args: Arg) -> Any:
        key = first_key(args)
        slot = key_slot(key) if key is not None else None
        address = self.slots[slot] if slot is not None else next(iter(self.nodes), None)
        if address is None:
            await self.refresh()
            address = self.slots[slot] if slot is not None else self.seeds[0]
            if address is None:
                raise RedisUnavailable(f"no cluster node serves slot {slot}")
        asking = False
        for _ in range(REDIRECTS):
            client = self.node(address)
            try:
                if asking:
                    # Both written back to back on one connection: ASKING covers the command.
                    _, reply = await asyncio.gather(client.execute("ASKING"),
                                                    client.execute(*args))
                    return reply
                return await client.execute(*args)
            except RedisError as err:
                message = str(err)
                kind = message.split(" ", 1)[0]
                if kind in ("MOVED", "ASK"):
                    _, moved_slot, target = message.split()
                    host, _, port = target.rpartition(":")
                    address = (host or address[0], int(port))
                    asking = kind == "ASK"
                    if kind == "MOVED":
                        self.slots[int(moved_slot)] = address
                        self._in_background()  # others moved too, likely
                    continue
                if kind in ("TRYAGAIN", "CLUSTERDOWN"):
                    await asyncio.sleep(0.05)
                    continue
                raise
            except RedisUnavailable:
                # The node may have failed over: learn the new map, then report this call.
                self._in_background()
                raise
        raise RedisUnavailable(f"too many cluster redirections for {_as_bytes(args[0])!r}")

    def _in_background(self) -> None:
        task = asyncio.ensure_future(self._refresh_quietly())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except RedisUnavailable as exc:
            log.warning("cluster slot map reload failed: %s", exc)

    async def aclose(self) -> None:
        for client in self.nodes.values():
            await client.aclose()


def connect(url: str, timeout: float, cluster: bool) -> Redis:
    """The gateway's Redis: one server, or a cluster when `REDIS_CLUSTER=1`.

    Typed as the single-server client, whose commands (`Commands`) the cluster client has
    too: the modules that take a `Redis` use nothing else."""
    if cluster:
        return cast(Redis, ClusterRedis.from_url(url, timeout))
    return Redis.from_url(url, timeout)
