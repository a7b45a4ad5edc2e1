"""API key rules: minting, hashing, editing. The gateway sees every change after commit
(the model signals of accounts/signals.py publish every save and delete)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import ApiKey, OAuthApp

KEY_PREFIX = "sk-or-v1-"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def label_for(key: str) -> str:
    """What people see of a key: enough to recognise it, never enough to use it."""
    return f"{key[: len(KEY_PREFIX) + 3]}...{key[-3:]}"


def looks_like_key(value: str) -> bool:
    body = value.removeprefix(KEY_PREFIX)
    return (
        value.startswith(KEY_PREFIX)
        and len(body) == 64
        and all(c in "0123456789abcdef" for c in body)
    )


@dataclass
class NewKey:
    row: ApiKey
    key: str  # the plaintext, returned to the caller once and never stored


def create_key(
    user: AbstractBaseUser,
    name: str,
    *,
    management: bool = False,
    limit: Decimal | None = None,
    limit_reset: str = "",
    include_byok_in_limit: bool = False,
    expires_at: datetime | None = None,
    oauth_app: OAuthApp | None = None,
) -> NewKey:
    key = KEY_PREFIX + secrets.token_hex(32)
    row = ApiKey.objects.create(
        user_id=user.pk,
        name=name,
        hash=hash_key(key),
        label=label_for(key),
        management=management,
        limit=limit,
        limit_reset=limit_reset or "",
        include_byok_in_limit=include_byok_in_limit,
        expires_at=expires_at,
        oauth_app=oauth_app,
    )
    return NewKey(row=row, key=key)


UPDATABLE = {"name", "disabled", "limit", "limit_reset", "include_byok_in_limit", "expires_at"}


def update_key(row: ApiKey, **changes: object) -> ApiKey:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    for field, value in changes.items():
        if field == "limit_reset" and value is None:
            value = ""
        setattr(row, field, value)
    row.save()
    return row


def disable_key(row: ApiKey) -> ApiKey:
    return update_key(row, disabled=True)


@transaction.atomic
def delete_key(row: ApiKey) -> None:
    row.delete()
