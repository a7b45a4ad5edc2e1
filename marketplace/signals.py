"""Any saved or deleted catalog row (admin, shell, loader) republishes the catalog once per
transaction, after commit. Bulk writes send no signals: the loader schedules its own publish."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from marketplace.models import Author, Endpoint, Model, Provider
from marketplace.publish import schedule_publish


def _catalog_changed(sender: type, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # fixtures being loaded
        return
    schedule_publish()


def connect() -> None:
    for model in (Author, Provider, Model, Endpoint):
        post_save.connect(_catalog_changed, sender=model, dispatch_uid=f"publish-{model.__name__}")
        post_delete.connect(
            _catalog_changed, sender=model, dispatch_uid=f"unpublish-{model.__name__}"
        )
