"""`make run`: a developer's machine. DEBUG stays off unless DEBUG=1 is set."""

import warnings

from config.env import env_str
from config.settings.base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Serve static files straight from the source folders: no collectstatic step in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise warns when STATIC_ROOT is missing; in development the finders serve everything.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
