"""The gateway hears of every change to an account or a key, however it is saved.

Receivers run inside the saving transaction and publish after it commits (accounts/publish.py),
so a change made in the admin, the API, a management command or the Django shell reaches Redis
the same way: a user deactivated or deleted, a key disabled, deleted, given a lower limit or an
earlier expiry, privacy settings changed, credits moved. `QuerySet.update()` sends no signal:
the periodic republish (beat) catches those.
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiKey, PrivacySettings
from accounts.publish import publish_account_on_commit, publish_key_on_commit
from billing.ledger import credits_changed


@receiver(credits_changed)
def _credits_changed(sender: Any, user_id: int, **_: Any) -> None:
    publish_account_on_commit(user_id)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def _user_changed(sender: Any, instance: Any, update_fields: Any = None, **_: Any) -> None:
    # A sign-in saves last_login only: nothing the gateway reads.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    publish_account_on_commit(instance.pk)


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def _key_changed(sender: Any, instance: ApiKey, **_: Any) -> None:
    publish_key_on_commit(instance.hash)


@receiver(post_save, sender=PrivacySettings)
def _privacy_changed(sender: Any, instance: PrivacySettings, **_: Any) -> None:
    publish_account_on_commit(instance.user_id)
