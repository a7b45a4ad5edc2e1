"""Bring your own key: a user's own provider keys, tried around the shared capacity.

The Django side publishes each account's usable keys as ciphertext at
`gw:{s<k>}:byok:<user id>` (billing/byok.py); they are decrypted here, in the process that
calls the provider, with the same BYOK_ENCRYPTION_KEYS. Order for one model's endpoints:
the account's prioritised keys (by sort_order, ahead of provider.order), then the shared
endpoints, then its `is_fallback` keys. A key the provider refuses (401/403) is reported at
`gw:byok:rejected` for the Django side to mark, and the request moves on to the next endpoint.

The charge of a BYOK generation is the fee: free while the account's BYOK list-price usage of
the month is under BYOK_FREE_MONTHLY_USD, then BYOK_FEE_PERCENT of the list price. That usage
is counted by the settle script itself (gateway/metering.py), once per generation.
"""

import json
import os
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from gateway import keys as names

if TYPE_CHECKING:
    from gateway.catalog import Endpoint
    from gateway.redis_client import Redis

# Must match config/settings/base.py (development only; set the variable anywhere else).
_DEV_KEY = "ZGV2ZWxvcG1lbnQtb25seS1ieW9rLWtleS0wMDAwMDA="


keys_key = names.byok
usage_key = names.byok_usage


def month_field() -> str:
    return time.strftime("m:%Y-%m", time.gmtime())


@dataclass(frozen=True)
class ProviderKey:
    id: str
    provider: str
    # The secret in clear, kept out of repr() so no log line or traceback can show it.
    secret: str = field(repr=False)
    is_fallback: bool = False
    sort_order: int = 0
    allowed_models: frozenset[str] | None = None
    allowed_api_key_hashes: frozenset[str] | None = None

    def applies(self, model_id: str, key_hash: str) -> bool:
        if self.allowed_models is not None and model_id not in self.allowed_models:
            return False
        return self.allowed_api_key_hashes is None or key_hash in self.allowed_api_key_hashes


@cache
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def _optional(raw: Any) -> frozenset[str] | None:
    return None if raw is None else frozenset(str(v) for v in raw)


def parse(raw: bytes | None, user_id: str) -> tuple[ProviderKey, ...]:
    """The published record, decrypted: the keys this user may use (`allowed_user_ids`, null =
    anyone of the account); a key this process cannot decrypt is left out."""
    if not raw:
        return ()
    fernet = _fernet(os.environ.get("BYOK_ENCRYPTION_KEYS") or _DEV_KEY)
    found = []
    for item in json.loads(raw):
        users = _optional(item.get("allowed_user_ids"))
        if users is not None and user_id not in users:
            continue
        try:
            secret = fernet.decrypt(str(item["secret"]).encode()).decode()
        except (InvalidToken, KeyError, ValueError):
            continue
        found.append(
            ProviderKey(
                id=str(item["id"]),
                provider=str(item["provider"]),
                secret=secret,
                is_fallback=bool(item.get("is_fallback")),
                sort_order=int(item.get("sort_order") or 0),
                allowed_models=_optional(item.get("allowed_models")),
                allowed_api_key_hashes=_optional(item.get("allowed_api_key_hashes")),
            )
        )
    return tuple(sorted(found, key=lambda k: k.sort_order))


def expand(
    endpoints: "list[Endpoint]", keys: tuple[ProviderKey, ...], model_id: str, key_hash: str
) -> "list[Endpoint]":
    """The endpoints to try, with the account's own keys around the shared ones."""
    if not keys:
        return endpoints

    def own(fallback: bool) -> "list[Endpoint]":
        return [
            replace(endpoint, byok=key)
            for key in keys
            if key.is_fallback == fallback and key.applies(model_id, key_hash)
            for endpoint in endpoints
            if endpoint.provider == key.provider
        ]

    return own(False) + list(endpoints) + own(True)


def rejected(status: int) -> bool:
    """The provider refused the key itself, not the request."""
    return status in (401, 403)


async def report_rejected(redis: "Redis", user_id: str, key: ProviderKey) -> None:
    await redis.execute("SADD", names.BYOK_REJECTED, f"{user_id}:{key.id}")


def fee_share() -> Decimal:
    return Decimal(os.environ.get("BYOK_FEE_PERCENT") or "5") / 100


def fee(listed: Decimal, used_this_month_nanos: int) -> Decimal:
    """What a BYOK generation costs the account: nothing within the monthly allowance."""
    allowance = Decimal(os.environ.get("BYOK_FREE_MONTHLY_USD") or "25000")
    if Decimal(used_this_month_nanos).scaleb(-9) + listed <= allowance:
        return Decimal(0)
    return listed * fee_share()

