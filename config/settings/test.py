"""pytest: real Postgres and Redis, one Redis database per xdist worker."""

import os

from config.env import env_str
from config.settings.base import *  # noqa: F403
from config.settings.dev import STORAGES, WHITENOISE_USE_FINDERS  # noqa: F401


def _redis_url_for_worker(url: str) -> str:
    """xdist workers gw0, gw1... each get their own Redis database, so flushes don't collide."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw-1")
    index = int(worker.removeprefix("gw")) + 2
    return url.rsplit("/", 1)[0] + f"/{index}"


SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
REDIS_URL = _redis_url_for_worker(env_str("REDIS_URL", "redis://127.0.0.1:63791/0"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "web",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
