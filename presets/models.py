"""Presets: a named, versioned routing configuration of one account (reference §22).

Every save adds a version; the preset points at its designated (latest) version, which is what
`"model": "@preset/<slug>"` uses at the gateway.
"""

import uuid

from django.conf import settings
from django.db import models


class PresetStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"
    ARCHIVED = "archived", "Archived"


class Preset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presets"
    )
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=PresetStatus.choices, default=PresetStatus.ACTIVE
    )
    designated_version = models.ForeignKey(
        "PresetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "slug"], name="preset_unique_slug_per_user")
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"@preset/{self.slug}"


class PresetVersion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    preset = models.ForeignKey(Preset, on_delete=models.CASCADE, related_name="versions")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField()
    # null, not "": the API tells "no system prompt" apart from an empty one (reference §22).
    system_prompt = models.TextField(null=True, blank=True)  # noqa: DJ001
    # The stored request fields (model, models, provider, sampling parameters, tools, moa...).
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["preset", "version"], name="preset_version_unique")
        ]
        ordering = ["version"]

    def __str__(self) -> str:
        return f"{self.preset} v{self.version}"
