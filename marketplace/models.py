"""The catalog: model labs (authors), their models, the providers that sell them, and the
endpoints (model x provider offers) with prices, limits and data policy."""

from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models


def price_field(verbose_name: str) -> "models.DecimalField[Decimal, Decimal]":
    """USD per token (per request / per image); catalog prices go down to 1e-11."""
    return models.DecimalField(verbose_name, max_digits=24, decimal_places=15, default=Decimal(0))


class ApiFormat(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GEMINI = "gemini", "Gemini"


class FromCatalogFile(models.Model):
    """A row the catalog loader may write. `file_values` remembers what the file said at the
    last load, so the next load applies only what the file changed since then and an
    operator's admin edit to anything else survives restarts (loader.py)."""

    file_values = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The catalog file's values at the last load; empty = not from the file.",
    )

    class Meta:
        abstract = True


class Author(FromCatalogFile):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Provider(FromCatalogFile):
    slug = models.SlugField(max_length=100, unique=True)
    # OpenRouter's wire `provider_name` (e.g. "Google" for google-vertex).
    name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    api_format = models.CharField(max_length=20, choices=ApiFormat.choices)
    # Empty base_url = served by the local provider simulator.
    base_url = models.URLField(max_length=500, blank=True)
    api_key_env = models.CharField(
        "API-key setting name",
        max_length=100,
        blank=True,
        help_text="Env variable with this provider's key (gateway process).",
    )
    trains_on_prompts = models.BooleanField(default=False)
    retains_prompts = models.BooleanField(default=False)
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    can_abort = models.BooleanField(null=True, blank=True)
    headquarters = models.CharField(max_length=2, blank=True)
    privacy_policy_url = models.URLField(max_length=500, blank=True)
    terms_of_service_url = models.URLField(max_length=500, blank=True)
    status_page_url = models.URLField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def data_policy(self) -> dict[str, Any]:
        return {
            "training": self.trains_on_prompts,
            "retains_prompts": self.retains_prompts,
            "retention_days": self.retention_days,
        }


class Model(FromCatalogFile):
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="models")
    # "author/slug", kept in one column because every lookup (API, gateway, rankings) uses it.
    model_id = models.CharField("id", max_length=200, unique=True)
    slug = models.CharField(max_length=150)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created = models.DateTimeField()
    context_length = models.PositiveIntegerField()
    input_modalities = ArrayField(models.CharField(max_length=20), default=list)
    output_modalities = ArrayField(models.CharField(max_length=20), default=list)
    tokenizer = models.CharField(max_length=50, blank=True)
    instruct_type = models.CharField(max_length=50, blank=True)
    hugging_face_id = models.CharField(max_length=200, blank=True)
    supported_parameters = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created", "model_id"]
        indexes = [models.Index(fields=["author", "slug"])]

    def __str__(self) -> str:
        return self.model_id

    def get_absolute_url(self) -> str:
        return f"/{self.model_id}"


class EndpointStatus(models.TextChoices):
    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"
    DEPRECATED = "deprecated", "Deprecated"


class Endpoint(FromCatalogFile):
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="endpoints")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="endpoints")
    # Routing slug: the provider slug, or e.g. "deepinfra/turbo", "openai/priority".
    tag = models.CharField(max_length=150)
    variant = models.CharField(max_length=20, blank=True, help_text='"free" or empty')
    service_tier = models.CharField(
        max_length=20,
        blank=True,
        choices=[("", "standard"), ("flex", "flex"), ("priority", "priority")],
    )
    provider_model_id = models.CharField(
        max_length=200, blank=True, help_text="Model name sent upstream; empty = the model slug."
    )
    api_format = models.CharField(
        max_length=20, blank=True, choices=ApiFormat.choices, help_text="Empty = provider's."
    )
    # {training, retains_prompts, retention_days} overriding the provider's; null = provider's.
    data_policy_override = models.JSONField(null=True, blank=True)
    price_prompt = price_field("prompt price")
    price_completion = price_field("completion price")
    price_request = price_field("request price")
    price_image = price_field("image price")
    # USD per image the model draws (models whose output modalities include image).
    price_image_output = price_field("image output price")
    price_input_cache_read = price_field("input cache read price")
    price_input_cache_write = price_field("input cache write price")
    # [{min_prompt_tokens, prompt, completion, input_cache_read?}] with decimal strings.
    pricing_overrides = models.JSONField(default=list, blank=True)
    context_length = models.PositiveIntegerField()
    max_completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    quantization = models.CharField(max_length=20, blank=True)
    supported_parameters = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=EndpointStatus.choices, default=EndpointStatus.ENABLED
    )
    price_source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["model", "price_prompt", "tag"]
        constraints = [
            models.UniqueConstraint(fields=["model", "tag", "variant"], name="endpoint_unique_tag")
        ]

    def __str__(self) -> str:
        suffix = f":{self.variant}" if self.variant else ""
        return f"{self.tag} | {self.model.model_id}{suffix}"

    @property
    def is_standard(self) -> bool:
        """Reachable by the plain model id without opting in (no :free, no service tier)."""
        return not self.variant and not self.service_tier

    @property
    def data_policy(self) -> dict[str, Any]:
        return self.data_policy_override or self.provider.data_policy

    @property
    def effective_api_format(self) -> str:
        return self.api_format or self.provider.api_format

    @property
    def blended_price(self) -> Decimal:
        return self.price_prompt + self.price_completion


class ProviderSighting(models.Model):
    """A finish reason or error type a provider returned for the first time (reported by the
    gateway, see marketplace/sightings.py). Operators are alerted once per row."""

    class Kind(models.TextChoices):
        FINISH_REASON = "finish_reason", "finish reason"
        ERROR = "error", "error"

    provider_slug = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=100)
    example_model = models.CharField(max_length=200, blank=True)
    first_seen = models.DateTimeField()
    acknowledged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-first_seen"]
        constraints = [
            models.UniqueConstraint(fields=["provider_slug", "kind", "value"],
                                    name="provider_sighting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider_slug}: {self.kind} {self.value}"
