"""Who is calling: key and account records from Redis, cached in process for <= 0.5 s."""

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from gateway import byok, keys
from gateway.byok import ProviderKey
from gateway.errors import GatewayError
from gateway.redis_client import Redis


@dataclass(frozen=True)
class Account:
    user_id: str
    active: bool
    prompt_logging: bool
    deny_training: bool
    allow: frozenset[str]
    ignore: frozenset[str]


@dataclass(frozen=True)
class Caller:
    key_hash: str
    key_id: int | None
    limit: int | None  # nano-dollars
    limit_reset: str  # daily, weekly, monthly or ""
    account: Account
    # The account's own provider keys (decrypted) and its BYOK list-price usage this month.
    byok: tuple[ProviderKey, ...] = ()
    byok_month_nanos: int = 0
    # The key's BYOK list-price usage counts toward its limit (`include_byok_in_limit`).
    include_byok: bool = False


def _csv(raw: bytes | None) -> frozenset[str]:
    if not raw:
        return frozenset()
    return frozenset(s.strip() for s in raw.decode().split(",") if s.strip())


def _int(raw: bytes | None) -> int | None:
    if raw in (None, b""):
        return None
    return int(raw)  # type: ignore[arg-type]


def _unauthorized(message: str) -> GatewayError:
    return GatewayError(401, message, {"error_type": "authentication"})


class Authenticator:
    def __init__(self, cache_seconds: float = 0.5) -> None:
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Caller | GatewayError]] = {}

    async def authenticate(self, redis: Redis, authorization: str | None) -> Caller:
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise _unauthorized("No auth credentials found")
        token = authorization[7:].strip()
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is None or cached[0] < now:
            if len(self._cache) > 10_000:
                self._cache.clear()
            result = await self._load(redis, token)
            cached = (now + self.cache_seconds, result)
            self._cache[token] = cached
        result = cached[1]
        if isinstance(result, GatewayError):
            raise result
        return result

    async def _load(self, redis: Redis, token: str) -> Caller | GatewayError:
        key_hash = hashlib.sha256(token.encode()).hexdigest()
        record: dict[bytes, Any] = await redis.hgetall(keys.key(key_hash))
        if not record:
            if not await redis.execute("EXISTS", keys.READY):
                # Redis lost its data (or is being restored): this may be a good key whose
                # record is not back yet. Say "retry", not "no such key".
                return GatewayError(503, "Key records are being restored; retry shortly.",
                                    {"error_type": "state_unavailable"}, retry_after=1)
            return _unauthorized("User not found.")
        if record.get(b"disabled") == b"1":
            return _unauthorized("This API key is disabled.")
        expires = _int(record.get(b"expires_at"))
        if expires is not None and expires <= time.time():
            return _unauthorized("This API key has expired.")
        if record.get(b"management") == b"1":
            return GatewayError(
                403,
                "Management keys cannot be used for completions; use an inference key.",
                {"error_type": "permission_denied"},
            )
        user_id = (record.get(b"user_id") or b"").decode()
        if not user_id.isdigit():
            return _unauthorized("User not found.")
        raw: dict[bytes, Any] = await redis.hgetall(keys.account(user_id))
        if not raw or raw.get(b"active") == b"0":
            return GatewayError(403, "This account is disabled.",
                                {"error_type": "permission_denied"})
        account = Account(
            user_id=user_id,
            active=True,
            prompt_logging=raw.get(b"prompt_logging") == b"1",
            deny_training=raw.get(b"deny_training") == b"1",
            allow=_csv(raw.get(b"allow")),
            ignore=_csv(raw.get(b"ignore")),
        )
        own_keys = byok.parse(await redis.execute("GET", byok.keys_key(user_id)), user_id)
        used = await redis.hget(byok.usage_key(user_id), byok.month_field()) if own_keys else None
        return Caller(
            key_hash=key_hash,
            key_id=_int(record.get(b"key_id")),
            limit=_int(record.get(b"limit")),
            limit_reset=(record.get(b"limit_reset") or b"").decode(),
            account=account,
            byok=own_keys,
            byok_month_nanos=int(used or 0),
            include_byok=record.get(b"include_byok") == b"1",
        )
