"""Presets and versions in the shapes the `openrouter` SDK parses (reference §22)."""

from datetime import datetime
from typing import Any

from presets.models import Preset, PresetVersion


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def preset_json(preset: Preset) -> dict[str, Any]:
    return {
        "id": str(preset.id),
        "name": preset.name,
        "slug": preset.slug,
        "description": preset.description or None,
        "status": preset.status,
        "designated_version_id": str(preset.designated_version_id)
        if preset.designated_version_id else None,
        "workspace_id": None,
        "creator_user_id": str(preset.user_id),
        "created_at": _time(preset.created_at),
        "updated_at": _time(preset.updated_at),
        "status_updated_at": _time(preset.status_updated_at),
    }


def version_json(version: PresetVersion) -> dict[str, Any]:
    return {
        "id": str(version.id),
        "preset_id": str(version.preset_id),
        "creator_id": str(version.creator_id or ""),
        "version": version.version,
        "system_prompt": version.system_prompt,
        "config": version.config,
        "created_at": _time(version.created_at),
        "updated_at": _time(version.updated_at),
    }


def with_designated(preset: Preset) -> dict[str, Any]:
    designated = preset.designated_version
    return preset_json(preset) | {
        "designated_version": version_json(designated) if designated else None
    }
