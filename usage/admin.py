from django.contrib import admin

from usage.models import DeadLetter, Generation


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "user",
        "model",
        "provider",
        "status",
        "tokens_prompt",
        "tokens_completion",
        "cost",
        "latency_ms",
        "streamed",
        "cancelled",
    ]
    list_filter = ["status", "streamed", "cancelled", "api_type", "provider", "created_at"]
    search_fields = [
        "id",
        "model",
        "user__email",
        "user__username",
        "key_hash",
        "upstream_id",
        "http_referer",
        "app_title",
    ]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    # History is written by the metering consumer only.
    readonly_fields = [field.name for field in Generation._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["entry_id", "created_at", "error"]
    search_fields = ["entry_id", "error", "raw"]
    readonly_fields = ["entry_id", "raw", "error", "created_at"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: object) -> bool:
        return False
