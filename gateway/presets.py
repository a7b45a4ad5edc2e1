"""Presets (reference §22): `"model": "@preset/<slug>"`, `"<model>@preset/<slug>"` and the
`preset` body field, merged into the request before it is parsed and routed.

The Django side publishes an account's active presets to one hash per account (presets/publish.py,
docs/gateway-state.md); a preset is read with one HGET and cached in process for a second.

Merge rules: shallow, the request's fields win; tools are united (a request tool replaces the
preset's tool of the same function name, preset order kept, request-only tools appended); the
preset's system prompt is prepended as the first system message. A `moa` definition in the preset
makes the request a mixture-of-agents run (gateway/moa.py).
"""

import time
from typing import Any

import orjson

from gateway import keys
from gateway.errors import GatewayError, bad_request
from gateway.redis_client import Redis

MARK = "@preset/"
CACHE_SECONDS = 1.0


def presets_key(user_id: str) -> str:
    """The account's presets hash, under its shard tag (gateway/keys.py)."""
    return keys.presets(user_id) if user_id.isdigit() else keys.presets(0)


def requested_slug(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(slug, model named alongside it) from the body, or (None, None) without a preset."""
    model = body.get("model")
    field = body.get("preset")
    if field is not None and (not isinstance(field, str) or not field.strip()):
        raise bad_request("'preset' must be a preset slug")
    if isinstance(model, str) and MARK in model:
        named, _, slug = model.partition(MARK)
        if not slug:
            raise bad_request("'@preset/' must be followed by a preset slug")
        return slug, named or None
    if isinstance(field, str):
        return field.strip(), model if isinstance(model, str) and model else None
    return None, None


def _tool_name(tool: Any) -> Any:
    if isinstance(tool, dict):
        function = tool.get("function")
        if isinstance(function, dict):
            return ("function", function.get("name"))
        return (tool.get("type"), (tool.get("parameters") or {}).get("name")
                if isinstance(tool.get("parameters"), dict) else None)
    return None


def merge_tools(preset: list[Any], request: list[Any]) -> list[Any]:
    by_name = {_tool_name(t): t for t in request}
    merged = [by_name.pop(_tool_name(t), t) for t in preset]
    return merged + [t for t in request if _tool_name(t) in by_name]


def merge(body: dict[str, Any], preset: dict[str, Any], model: str | None,
          slug: str = "") -> dict[str, Any]:
    """The request with the preset applied (request fields win)."""
    config: dict[str, Any] = dict(preset.get("config") or {})
    merged = {k: v for k, v in body.items() if k != "preset"}
    if model:
        merged["model"] = model
    else:
        merged.pop("model", None)
    for name, value in config.items():
        if name == "tools" and isinstance(body.get("tools"), list) and isinstance(value, list):
            merged["tools"] = merge_tools(value, body["tools"])
        elif merged.get(name) is None:
            merged[name] = value
    if merged.get("moa") is not None and not merged.get("model") and not merged.get("models"):
        # A mixture of agents answers under the preset's name.
        merged["model"] = f"{MARK}{slug}"
    system = preset.get("system_prompt")
    if isinstance(system, str) and system and isinstance(merged.get("messages"), list):
        merged["messages"] = [{"role": "system", "content": system}, *merged["messages"]]
    return merged


class Presets:
    """Resolves presets against Redis with a short in-process cache."""

    def __init__(self, cache_seconds: float = CACHE_SECONDS) -> None:
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}

    async def load(self, redis: Redis, user_id: str, slug: str) -> dict[str, Any] | None:
        now = time.monotonic()
        cached = self._cache.get((user_id, slug))
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = await redis.hget(presets_key(user_id), slug)
        record = orjson.loads(raw) if raw else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(user_id, slug)] = (now + self.cache_seconds, record)
        return record

    async def apply(self, raw: bytes, redis: Redis, user_id: str) -> bytes:
        """The body with its preset merged in; the same bytes when it names none."""
        # Most requests name no preset: skip decoding them twice.
        if b"@preset/" not in raw and b'"preset"' not in raw:
            return raw
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw  # the parser answers with the usual 400
        if not isinstance(body, dict):
            return raw
        slug, model = requested_slug(body)
        if slug is None:
            return raw
        record = await self.load(redis, user_id, slug)
        if record is None:
            raise GatewayError(404, f"Preset '{slug}' not found",
                               {"error_type": "not_found", "preset": slug})
        return orjson.dumps(merge(body, record, model, slug))
