from django.contrib import admin

from presets.models import Preset, PresetVersion


class VersionInline(admin.TabularInline):
    model = PresetVersion
    extra = 0
    fields = ("version", "system_prompt", "config", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "user", "status", "updated_at")
    search_fields = ("slug", "name", "user__email")
    list_filter = ("status",)
    inlines = [VersionInline]
