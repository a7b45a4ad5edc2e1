"""Operator admin for the catalog. Every save publishes the snapshot once, after commit
(signals.py), so a price edited here reaches the gateway and the API within a second."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models

from marketplace.loader import api_key_env_error
from marketplace.models import Author, Endpoint, Model, Provider, ProviderSighting


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]


class ProviderForm(forms.ModelForm):
    def clean_api_key_env(self) -> str:
        name = self.cleaned_data["api_key_env"].strip()
        if error := api_key_env_error(name):
            raise forms.ValidationError(error)
        return name


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    # An operator typing "api.example.com" means https, as Django 6 will assume.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "display_name",
        "slug",
        "api_format",
        "base_url",
        "trains_on_prompts",
        "retains_prompts",
        "retention_days",
        "enabled",
    ]
    list_filter = ["enabled", "api_format", "trains_on_prompts", "retains_prompts"]
    search_fields = ["slug", "name", "display_name"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "display_name", "enabled"]}),
        (
            "Upstream",
            {
                "fields": ["api_format", "base_url", "api_key_env", "can_abort"],
                "description": "Leave the base URL empty to serve this provider from the "
                "local simulator.",
            },
        ),
        ("Data policy", {"fields": ["trains_on_prompts", "retains_prompts", "retention_days"]}),
        (
            "About",
            {
                "fields": [
                    "headquarters",
                    "privacy_policy_url",
                    "terms_of_service_url",
                    "status_page_url",
                ]
            },
        ),
    ]


class EndpointInline(admin.TabularInline):
    model = Endpoint
    extra = 0
    fields = [
        "provider",
        "tag",
        "variant",
        "service_tier",
        "price_prompt",
        "price_completion",
        "context_length",
        "max_completion_tokens",
        "quantization",
        "status",
    ]
    autocomplete_fields = ["provider"]
    show_change_link = True


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = ["model_id", "name", "author", "context_length", "created", "enabled"]
    list_filter = ["enabled", "author", "tokenizer"]
    search_fields = ["model_id", "name", "description"]
    list_select_related = ["author"]
    autocomplete_fields = ["author"]
    date_hierarchy = "created"
    inlines = [EndpointInline]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "provider",
        "price_prompt",
        "price_completion",
        "context_length",
        "quantization",
        "status",
    ]
    list_filter = ["status", "provider", "variant", "service_tier", "quantization"]
    search_fields = ["model__model_id", "model__name", "tag", "provider__slug"]
    list_select_related = ["model", "provider"]
    autocomplete_fields = ["model", "provider"]
    list_editable = ["status"]


@admin.register(ProviderSighting)
class ProviderSightingAdmin(admin.ModelAdmin):
    """Finish reasons and error types a provider returned for the first time."""

    list_display = ["first_seen", "provider_slug", "kind", "value", "example_model",
                    "acknowledged"]
    list_filter = ["acknowledged", "kind", "provider_slug"]
    search_fields = ["provider_slug", "value", "example_model"]
    list_editable = ["acknowledged"]
    readonly_fields = ["provider_slug", "kind", "value", "example_model", "first_seen"]

    def has_add_permission(self, request: Any) -> bool:
        return False
