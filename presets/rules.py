"""What a preset may hold, and saving a new version of one (reference §22).

A preset's config keeps the request fields that configure routing and sampling; `messages`,
`stream`, `prompt` and `input` are never stored. A system message becomes the preset's system
prompt. `moa` (our extension) describes a mixture-of-agents run: proposers, aggregator, layers,
critique on or off, and the aggregation prompt.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from presets.models import Preset, PresetVersion
from presets.publish import publish_presets_on_commit

NUMBERS = ("temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty",
           "presence_penalty", "repetition_penalty")
INTEGERS = ("max_tokens", "max_completion_tokens", "seed", "top_logprobs")
OBJECTS = ("provider", "response_format", "reasoning", "usage")
LISTS = ("tools", "plugins", "transforms")
SCALARS = ("tool_choice", "stop", "parallel_tool_calls", "verbosity", "route")
IGNORED = ("messages", "stream", "stream_options", "prompt", "input", "preset", "user",
           "session_id")
MAX_PROPOSERS = 8
MAX_LAYERS = 3
MAX_PROMPT_CHARS = 20_000


class PresetError(ValueError):
    """A config that cannot be stored; the message names the field."""


def _model_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PresetError(f"'{field}' must be an array of model ids")
    return [v.strip() for v in value]


def clean_moa(raw: Any) -> dict[str, Any]:
    """A mixture-of-agents definition, normalised; raises PresetError naming the bad field."""
    if not isinstance(raw, dict):
        raise PresetError("'moa' must be an object")
    proposers = _model_list(raw.get("proposers"), "moa.proposers")
    if not 1 <= len(proposers) <= MAX_PROPOSERS:
        raise PresetError(f"'moa.proposers' must name 1 to {MAX_PROPOSERS} models")
    aggregator = raw.get("aggregator")
    if not isinstance(aggregator, str) or not aggregator.strip():
        raise PresetError("'moa.aggregator' must be a model id")
    layers = raw.get("layers", 1)
    if not isinstance(layers, int) or isinstance(layers, bool) or not 1 <= layers <= MAX_LAYERS:
        raise PresetError(f"'moa.layers' must be an integer from 1 to {MAX_LAYERS}")
    critique = raw.get("critique", False)
    if not isinstance(critique, bool):
        raise PresetError("'moa.critique' must be true or false")
    moa: dict[str, Any] = {"proposers": proposers, "aggregator": aggregator.strip(),
                           "layers": layers, "critique": critique}
    for name in ("aggregator_prompt", "critique_prompt"):
        prompt = raw.get(name)
        if prompt in (None, ""):
            continue
        if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
            raise PresetError(f"'moa.{name}' must be a string of at most "
                              f"{MAX_PROMPT_CHARS} characters")
        moa[name] = prompt
    return moa


def clean_config(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(config, system prompt) from a chat request body or a stored config."""
    if not isinstance(body, dict):
        raise PresetError("A preset config must be a JSON object")
    config: dict[str, Any] = {}
    system_prompt = body.get("system_prompt")
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise PresetError("'system_prompt' must be a string")
    for message in body.get("messages") or ():
        if isinstance(message, dict) and message.get("role") in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, str):
                system_prompt = content
            break
    model = body.get("model")
    if model is not None:
        if not isinstance(model, str) or not model.strip() or "@preset/" in model:
            raise PresetError("'model' must be a model id")
        config["model"] = model.strip()
    if body.get("models") is not None:
        config["models"] = _model_list(body["models"], "models")
    for name in NUMBERS:
        value = body.get(name)
        if value is not None:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise PresetError(f"'{name}' must be a number")
            config[name] = value
    for name in INTEGERS:
        value = body.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PresetError(f"'{name}' must be a non-negative integer")
            config[name] = value
    for names, kind, label in ((OBJECTS, dict, "an object"), (LISTS, list, "an array")):
        for name in names:
            value = body.get(name)
            if value is not None:
                if not isinstance(value, kind):
                    raise PresetError(f"'{name}' must be {label}")
                config[name] = value
    for name in SCALARS:
        if body.get(name) is not None:
            config[name] = body[name]
    if body.get("moa") is not None:
        config["moa"] = clean_moa(body["moa"])
    return config, (system_prompt or None)


def models_named(config: dict[str, Any]) -> list[str]:
    """Every model id a config refers to (to check them against the catalog)."""
    names = [config["model"]] if "model" in config else []
    names += config.get("models", [])
    moa = config.get("moa")
    if moa:
        names += [*moa["proposers"], moa["aggregator"]]
    return list(dict.fromkeys(names))


@dataclass
class Saved:
    preset: Preset
    version: PresetVersion
    created: bool


def valid_slug(slug: str) -> str:
    cleaned = slugify(slug)
    if not cleaned or cleaned != slug or len(slug) > 64:
        raise PresetError("A preset slug is lowercase letters, digits and hyphens "
                          "(at most 64 characters)")
    return cleaned


def save_version(user: Any, slug: str, config: dict[str, Any], system_prompt: str | None, *,
                 name: str | None = None, description: str | None = None) -> Saved:
    """Create the preset or add version n+1, and make it the designated version."""
    valid_slug(slug)
    with transaction.atomic():
        preset, created = Preset.objects.select_for_update().get_or_create(
            user=user, slug=slug, defaults={"name": name or slug}
        )
        if name:
            preset.name = name
        if description is not None:
            preset.description = description
        last = preset.versions.aggregate(n=Max("version"))["n"] or 0
        version = PresetVersion.objects.create(
            preset=preset, creator=user, version=last + 1, system_prompt=system_prompt,
            config=config,
        )
        preset.designated_version = version
        preset.save()
        publish_presets_on_commit(preset.user_id)
    return Saved(preset, version, created)


def set_status(preset: Preset, status: str) -> None:
    with transaction.atomic():
        preset.status = status
        preset.status_updated_at = timezone.now()
        preset.save(update_fields=["status", "status_updated_at", "updated_at"])
        publish_presets_on_commit(preset.user_id)
