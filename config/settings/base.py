"""Settings shared by every environment; each value can be set from the environment."""

from pathlib import Path

from config.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://localhost:8000")
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
SITE_NAME = env_str("SITE_NAME", "OpenMarket")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "marketplace",
    "accounts",
    "billing",
    "rankings",
    "usage",
    "presets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.api_middleware.ApiEdgeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.unavailable.StateStoreUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "billing.alerts.low_balance",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgres://marketplace@127.0.0.1:54320/marketplace")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:63790/0")
# REDIS_URL names a node of a Redis Cluster that holds the gateway's state (docs/scaling.md);
# the cache and the Celery broker then need a plain Redis of their own (CACHE_URL, broker URL).
REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # A plain Redis: with REDIS_CLUSTER the gateway's state is on a cluster, the cache not.
        "LOCATION": env_str("CACHE_URL", REDIS_URL),
        "KEY_PREFIX": "web",
    }
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# Where the local provider fleet answers; providers without a base_url are served by it, but
# only while SIMULATOR_ENABLED is on (make run, tests). Off (production settings), they are
# left out of the gateway's snapshot and their model pages say they are not routable.
SIMULATOR_URL = env_str("SIMULATOR_URL", "http://127.0.0.1:8003")
SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", True)
# The gateway's own address, for the web side's internal calls (playground, test calls).
GATEWAY_URL = env_str("GATEWAY_URL", "http://127.0.0.1:8002")
# Days a generation's input and output are kept (prompt-logging accounts only; usage/tasks.py).
GENERATION_CONTENT_DAYS = env_int("GENERATION_CONTENT_DAYS", 90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Accounts (accounts/ app, django-allauth) ------------------------------------------------
# Sign-in by email; mandatory email verification; failed logins throttled per IP and per
# account (allauth's rate limits live in the Redis cache). GitHub and Google buttons appear only
# when their client id is set: allauth lists a provider only if it has an app configured.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "login": "30/m/ip",
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
INSTALLED_APPS += [
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
]
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
for _provider, _scope in (("github", ["user:email"]), ("google", ["profile", "email"])):
    _client_id = env_str(f"{_provider.upper()}_CLIENT_ID", "")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [
                {
                    "client_id": _client_id,
                    "secret": env_str(f"{_provider.upper()}_CLIENT_SECRET", ""),
                    "key": "",
                }
            ],
            "SCOPE": _scope,
        }

# --- Payments (billing/: Stripe Checkout, webhooks, auto top-up, BYOK) ------------------------
# Without STRIPE_SECRET_KEY a local test checkout takes Stripe's place; it signs its events with
# STRIPE_WEBHOOK_SECRET and posts them to the same webhook endpoint, so the same code path runs.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_local_test_checkout_not_secret")
CREDITS_MAX_PURCHASE = env_int("CREDITS_MAX_PURCHASE", 10_000)
# Fernet keys (comma-separated, newest first) that encrypt stored provider keys; the gateway
# reads the same variable. The default is for development only.
BYOK_ENCRYPTION_KEYS = env_list(
    "BYOK_ENCRYPTION_KEYS", "ZGV2ZWxvcG1lbnQtb25seS1ieW9rLWtleS0wMDAwMDA="
)
BYOK_FREE_MONTHLY_USD = env_int("BYOK_FREE_MONTHLY_USD", 25_000)
BYOK_FEE_PERCENT = env_int("BYOK_FEE_PERCENT", 5)
