"""Bring your own provider keys: encrypted at rest, write-only, published to the gateway only
in encrypted form.

Secrets are Fernet tokens made with the first key of BYOK_ENCRYPTION_KEYS (MultiFernet: any
listed key decrypts, so keys rotate by putting a new one first, running `reencrypt_all`, then
dropping the old one). The gateway reads the same variable and decrypts at call time; Redis and
Postgres only ever hold tokens. Nothing here logs a secret or puts one in an error message.
"""

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from billing.models import ProviderKey
from config import gateway_state
from config.redis import get_redis

FILTERS = ("allowed_models", "allowed_api_key_hashes", "allowed_user_ids")


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise RuntimeError("BYOK_ENCRYPTION_KEYS is empty: provider keys cannot be stored")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.BYOK_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    return fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret in clear; only for calling the provider. Raises InvalidToken."""
    return fernet().decrypt(token.encode()).decode()


def mask(secret: str) -> str:
    """What people see of a stored key: its kind prefix and last four characters."""
    secret = secret.strip()
    if len(secret) < 12:
        return "..." + secret[-2:]
    return f"{secret[:3]}...{secret[-4:]}"


def redis_key(user_id: int) -> str:
    """The account's provider keys for the gateway, in the account's shard."""
    return gateway_state.byok(user_id)


def live_keys(user_id: int) -> Any:
    return ProviderKey.objects.filter(user_id=user_id, deleted_at__isnull=True)


def create(user_id: int, provider: str, secret: str, **fields: Any) -> ProviderKey:
    key = ProviderKey.objects.create(
        user_id=user_id, provider=provider, secret=encrypt(secret), label=mask(secret), **fields
    )
    publish_on_commit(user_id)
    return key


def update(key: ProviderKey, secret: str | None = None, **fields: Any) -> ProviderKey:
    """Change fields; a new secret rotates the key in place (and clears a rejection)."""
    for name, value in fields.items():
        setattr(key, name, value)
    if secret is not None:
        key.secret, key.label, key.rejected_at = encrypt(secret), mask(secret), None
    key.save()
    publish_on_commit(key.user_id)
    return key


def delete(key: ProviderKey) -> None:
    """Soft delete: the row stays for the record, the secret is wiped."""
    key.secret, key.deleted_at, key.disabled = "", timezone.now(), True
    key.save(update_fields=["secret", "deleted_at", "disabled"])
    publish_on_commit(key.user_id)


def gateway_record(key: ProviderKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "provider": key.provider,
        "secret": key.secret,  # a Fernet token: the gateway decrypts with BYOK_ENCRYPTION_KEYS
        "is_fallback": key.is_fallback,
        "sort_order": key.sort_order,
        **{name: getattr(key, name) for name in FILTERS},
    }


def publish(user_id: int) -> None:
    """Make Redis match Postgres for one account's usable keys (serialised per account, so an
    older state never overwrites a newer one)."""
    name = redis_key(user_id)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
        usable = live_keys(user_id).filter(disabled=False, rejected_at__isnull=True)
        records = [gateway_record(k) for k in usable.order_by("sort_order", "created_at")]
        if records:
            get_redis().set(name, json.dumps(records))
        else:
            get_redis().delete(name)


def publish_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: publish(user_id))


def publish_all() -> int:
    users = set(ProviderKey.objects.values_list("user_id", flat=True))
    for user_id in users:
        publish(user_id)
    return len(users)


def reencrypt_all() -> int:
    """After putting a new key first in BYOK_ENCRYPTION_KEYS: re-encrypt every stored secret
    with it, so the old key can be dropped. Returns how many were rewritten."""
    done = 0
    for key in ProviderKey.objects.exclude(secret=""):
        try:
            rotated = fernet().rotate(key.secret.encode()).decode()
        except InvalidToken:
            continue  # made with a key no longer listed: unusable, left for the owner to replace
        ProviderKey.objects.filter(pk=key.pk).update(secret=rotated)
        done += 1
    publish_all()
    return done


def mark_rejected() -> int:
    """Beat: mark the keys the gateway reported as refused (shown on the provider keys page)
    and republish their accounts without them; returns how many were marked."""
    redis = get_redis()
    marked = 0
    while member := redis.spop(gateway_state.BYOK_REJECTED):
        user_id, _, key_id = (
            member.decode() if isinstance(member, bytes) else str(member)
        ).partition(":")
        if not user_id.isdigit():
            continue
        try:
            with transaction.atomic():
                updated = live_keys(int(user_id)).filter(pk=key_id, rejected_at__isnull=True)
                if updated.update(rejected_at=timezone.now()):
                    marked += 1
                    publish_on_commit(int(user_id))
        except ValidationError:
            continue  # not a key id of ours
    return marked
