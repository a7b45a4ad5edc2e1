"""Short-lived keys that the playground page uses to call the public API as the signed-in user.

The page never shows them: the web app mints one for the page's script, and it is worth little
if it leaks. It expires within the hour, spends at most a few dollars, and is deleted when its
owner signs out. They are ordinary keys (routed, metered and charged like any call, listed on
the keys page under their name), recognised by that name together with an expiry.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from accounts.keys import create_key, delete_key
from accounts.models import ApiKey
from accounts.publish import publish_account_on_commit

SESSION_KEY_NAME = "Playground session"
LIFETIME = timedelta(hours=1)
# Spending cap of one key: enough for an hour of trying models, little to a thief.
LIMIT = Decimal("5")
# Several tabs may each hold a key; older ones beyond this are revoked on the next mint.
MAX_LIVE = 3


@dataclass
class SessionKey:
    key: str
    expires_at: datetime


def session_keys_of(user_id: int) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(
        user_id=user_id, name=SESSION_KEY_NAME, expires_at__isnull=False
    )


@transaction.atomic
def mint_session_key(user: AbstractBaseUser) -> SessionKey:
    """A new playground key for `user`; expired and surplus earlier ones are revoked."""
    now = timezone.now()
    keys = list(session_keys_of(user.pk).select_for_update().order_by("-created_at", "-id"))
    for row in keys:
        if row.expires_at is not None and row.expires_at <= now:
            delete_key(row)
    live = [row for row in keys if row.expires_at is not None and row.expires_at > now]
    for row in live[MAX_LIVE - 1 :]:
        delete_key(row)
    expires_at = now + LIFETIME
    new = create_key(user, SESSION_KEY_NAME, limit=LIMIT, expires_at=expires_at)
    # An account that never had credits was never published; free models still need it.
    publish_account_on_commit(user.pk)
    return SessionKey(key=new.key, expires_at=expires_at)


@transaction.atomic
def revoke_session_keys(user_id: int) -> int:
    """Delete every playground key of the user (the gateway drops them within a second)."""
    rows = list(session_keys_of(user_id))
    for row in rows:
        delete_key(row)
    return len(rows)


@receiver(user_logged_out, dispatch_uid="revoke_playground_keys")
def _revoke_on_sign_out(sender: object, request: HttpRequest, user: object, **_: object) -> None:
    pk = getattr(user, "pk", None)
    if pk is not None:
        revoke_session_keys(pk)
