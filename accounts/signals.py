"""The gateway hears of every change to an account or a key, however it is saved.

Receivers run inside the saving transaction and publish after it commits (accounts/publish.py),
so a change made in the admin, the API, a management command or the Django shell reaches Redis
the same way. `QuerySet.update()` sends no signal: the periodic republish catches those.
"""

from typing import Any

from django.dispatch import receiver

from accounts.publish import publish_account_on_commit
from billing.ledger import credits_changed


@receiver(credits_changed)
def _credits_changed(sender: Any, user_id: int, **_: Any) -> None:
    publish_account_on_commit(user_id)
