from django.conf import settings
from django.db import models


class LimitReset(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class OAuthApp(models.Model):
    """A third-party app known by the origin of its callback URL."""

    origin = models.CharField(max_length=300, unique=True)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or self.origin


class ApiKey(models.Model):
    """An API key. Only the sha256 of the key is stored; the key itself is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=32)
    management = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)
    limit = models.DecimalField(max_digits=20, decimal_places=9, null=True, blank=True)
    limit_reset = models.CharField(max_length=8, choices=LimitReset.choices, blank=True)
    include_byok_in_limit = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set for keys minted by the OAuth PKCE flow: the "Connected apps" page lists them.
    oauth_app = models.ForeignKey(
        OAuthApp, null=True, blank=True, on_delete=models.SET_NULL, related_name="keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.label})"


class AuthorizationCode(models.Model):
    """A single-use PKCE code; stored as its sha256, like keys."""

    class Method(models.TextChoices):
        S256 = "S256", "S256"
        PLAIN = "plain", "plain"

    code_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_codes"
    )
    app = models.ForeignKey(OAuthApp, on_delete=models.CASCADE, related_name="codes")
    callback_url = models.URLField(max_length=2000)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    key_label = models.CharField(max_length=100, blank=True)
    key_limit = models.DecimalField(max_digits=20, decimal_places=9, null=True, blank=True)
    key_limit_reset = models.CharField(max_length=8, choices=LimitReset.choices, blank=True)
    key_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.app} by user {self.user_id}"


class PrivacySettings(models.Model):
    """Per-account data policy the router applies to every request of the account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy"
    )
    prompt_logging = models.BooleanField(default=False)
    deny_training = models.BooleanField(default=False)
    allow_providers = models.TextField(blank=True)  # comma-separated slugs; empty = all
    ignore_providers = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"privacy of user {self.user_id}"


class PublishOutbox(models.Model):
    """A key or account record that changed in Postgres and must still reach Redis.

    Written in the transaction of the change and deleted once the record is published, so a
    change committed while Redis is down is published when it is back (accounts/publish.py,
    drained by a beat task every few seconds) instead of being lost.
    """

    record = models.CharField(max_length=120, db_index=True)  # "key:<hash>" or "account:<id>"
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.record
