from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Republish everything the gateway reads from Redis: every installed app's "
        "`<app>.publish.publish_state()` (the catalog snapshot is marketplace's)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for app in apps.get_app_configs():
            name = f"{app.name}.publish"
            if find_spec(app.name) is None or find_spec(name) is None:
                continue
            publish = getattr(import_module(name), "publish_state", None)
            if callable(publish):
                self.stdout.write(f"{app.label}: {publish()}")
