"""The one Celery app; tasks live in each app's tasks.py, the beat schedule in config/beat.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **_: object) -> None:
    from config.beat import SCHEDULE

    sender.conf.beat_schedule = SCHEDULE
