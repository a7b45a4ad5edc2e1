"""Production: every secret from the environment, HTTPS only, no simulator.

`DJANGO_SETTINGS_MODULE=config.settings.production`. Refuses to start without SECRET_KEY and
ALLOWED_HOSTS rather than run with a guessable key or accept any Host header.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings.base import *  # noqa: F403


def _required(name: str) -> str:
    value = env_str(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set in the environment for production settings "
            f"(config.settings.production); see README.md, Configuration"
        )
    return value


SECRET_KEY = _required("SECRET_KEY")
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith(("dev-only", "test-secret")):
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 32 characters")
_required("ALLOWED_HOSTS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
DEBUG = env_bool("DEBUG", False)

# Providers without a base_url are not routable here: only a real upstream serves traffic.
SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", False)

# TLS ends at the proxy in front of nginx, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer probes over plain HTTP
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
