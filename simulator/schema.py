"""Generate a value that validates against a JSON schema (the subset LLM APIs accept).

Handles OpenAI/Anthropic JSON Schema and Gemini's OpenAPI-flavoured Schema (upper-case
``type`` names, ``nullable``, ``propertyOrdering``). ``pattern`` is not honoured: the
generated strings are plain words, which is enough for the schemas tools use in practice.
"""

from __future__ import annotations

import random
from typing import Any

from simulator.text import WORDS

JSON = Any
MAX_DEPTH = 6


def generate(schema: JSON, rng: random.Random) -> JSON:
    root = schema if isinstance(schema, dict) else {}
    return _value(root, rng, root, 0)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        target: Any = root
        if isinstance(ref, str) and ref.startswith("#"):
            for part in ref.lstrip("#").split("/"):
                if part:
                    target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        schema = target if isinstance(target, dict) else {}
        seen += 1
    return schema


def _type_of(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        # Prefer a concrete type over null, so the value carries information.
        concrete = [x for x in t if isinstance(x, str) and x.lower() != "null"]
        t = concrete[0] if concrete else "null"
    if isinstance(t, str):
        return t.lower()
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return None


def _value(schema: Any, rng: random.Random, root: dict[str, Any], depth: int) -> JSON:
    if not isinstance(schema, dict):
        return "value" if schema is not False else None
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            # The first branch that is not plain null, so oneOf rarely yields ambiguity.
            chosen = next(
                (o for o in options if not (isinstance(o, dict) and _type_of(o) == "null")),
                options[0],
            )
            return _value(chosen, rng, root, depth)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root) if isinstance(part, dict) else {}
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged["required"] = list(merged.get("required", [])) + list(v)
                else:
                    merged.setdefault(k, v)
        return _value(merged, rng, root, depth)

    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, rng, root, depth)
    if kind == "array":
        return _array(schema, rng, root, depth)
    if kind == "string":
        return _string(schema, rng)
    if kind == "integer":
        return int(_number(schema, rng, integer=True))
    if kind == "number":
        return _number(schema, rng, integer=False)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng)


def _object(schema: dict[str, Any], rng: random.Random, root: dict[str, Any], depth: int) -> JSON:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out: dict[str, Any] = {}
    order = schema.get("propertyOrdering") or list(props)
    for name in order:
        if name not in props:
            continue
        # Optional properties are included unless we are deep in a recursive schema.
        if name in required or depth < 2:
            out[name] = _value(props[name], rng, root, depth + 1)
    min_props = schema.get("minProperties")
    extra = schema.get("additionalProperties")
    if isinstance(min_props, int) and len(out) < min_props and extra is not False:
        value_schema = extra if isinstance(extra, dict) else {"type": "string"}
        while len(out) < min_props:
            out[f"key{len(out)}"] = _value(value_schema, rng, root, depth + 1)
    return out


def _array(schema: dict[str, Any], rng: random.Random, root: dict[str, Any], depth: int) -> JSON:
    prefix = schema.get("prefixItems") or []
    lo = int(schema.get("minItems", 1 if depth < MAX_DEPTH else 0))
    hi = int(schema.get("maxItems", max(lo, 3)))
    if depth >= MAX_DEPTH:
        hi = lo
    n = rng.randint(lo, max(lo, hi))
    out = [_value(p, rng, root, depth + 1) for p in prefix[:n]]
    items = schema.get("items", {})
    while len(out) < n:
        out.append(_value(items, rng, root, depth + 1))
    if schema.get("uniqueItems"):
        unique: list[Any] = []
        for v in out:
            if v not in unique:
                unique.append(v)
        out = unique
    return out


_FORMATS = {
    "date-time": "2024-05-17T10:30:00Z",
    "date": "2024-05-17",
    "time": "10:30:00",
    "email": "ada@example.com",
    "uri": "https://example.com/resource",
    "url": "https://example.com/resource",
    "uuid": "3f1c2b9e-8a4d-4c6f-9b2e-1d5a7c3e9f01",
    "hostname": "example.com",
    "ipv4": "192.0.2.10",
    "ipv6": "2001:db8::10",
}


def _string(schema: dict[str, Any], rng: random.Random) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    lo = int(schema.get("minLength", 0))
    hi = int(schema.get("maxLength", max(lo, 40)))
    words: list[str] = []
    target = rng.randint(1, 4)
    text = ""
    while len(words) < target or len(text) < lo:
        words.append(rng.choice(WORDS))
        text = " ".join(words)
    return text[:hi]


def _number(schema: dict[str, Any], rng: random.Random, *, integer: bool) -> float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    xlo = schema.get("exclusiveMinimum")
    xhi = schema.get("exclusiveMaximum")
    step = 1 if integer else 0.5
    # Draft-4 style boolean exclusive bounds apply to minimum/maximum.
    if xlo is True and lo is not None:
        lo, xlo = lo + step, None
    if xhi is True and hi is not None:
        hi, xhi = hi - step, None
    if isinstance(xlo, int | float) and not isinstance(xlo, bool):
        lo = xlo + step if lo is None else max(lo, xlo + step)
    if isinstance(xhi, int | float) and not isinstance(xhi, bool):
        hi = xhi - step if hi is None else min(hi, xhi - step)
    low = float(lo) if lo is not None else (0.0 if hi is None else min(0.0, float(hi) - 100))
    high = float(hi) if hi is not None else low + 100
    if integer:
        ilo, ihi = int(-(-low // 1)), int(high // 1)
        value: float = rng.randint(ilo, max(ilo, ihi))
    else:
        value = round(rng.uniform(low, high), 2)
        value = min(max(value, low), high)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = (value // multiple) * multiple
        if value < low:
            value += multiple
        if integer:
            value = int(value)
    return value
