"""Upsert the catalog from a JSON file (schema of marketplace/data/catalog.json).

The whole file is validated before anything is written, so a bad file changes nothing and the
error names every bad entry. Writing is one transaction that only touches rows whose values
differ, so loading the same file twice changes nothing. With ``prune`` the providers, models and
endpoints missing from the file are disabled (never deleted: rankings keep their history).

`make run` loads the shipped file on every start, so the file must not undo an operator's admin
edits. Each row keeps the values its file entry had at the last load (``file_values``); a load
applies only the fields whose file value changed since then (a new release's price, an edited
file), and leaves a row whose entry did not change alone. ``force`` applies the whole file again.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction

from marketplace.models import (
    ApiFormat,
    Author,
    Endpoint,
    EndpointStatus,
    FromCatalogFile,
    Model,
    Provider,
)
from marketplace.publish import schedule_publish

DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "catalog.json"

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MODEL_ID_RE = re.compile(r"^([a-z0-9][a-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A provider's key is read from the gateway's environment under this name: only names of the
# form <NAME>_API_KEY, so the catalog can never make the gateway send one of its own secrets
# (SECRET_KEY, DATABASE_URL, REDIS_URL...) upstream. The gateway checks the same form.
API_KEY_ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]*_API_KEY$")
URL_RE = re.compile(r"^https?://[^\s]+$")
API_FORMATS = set(ApiFormat.values)
PRICE_KEYS = ("prompt", "completion", "request", "image", "image_output", "input_cache_read",
              "input_cache_write")


class CatalogError(ValueError):
    """The file is not a valid catalog; the message lists every bad entry."""


@dataclass
class LoadResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    disabled: Counter[str] = field(default_factory=Counter)
    # Rows left alone because their file entry is the same as at the last load.
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated or +self.disabled)

    def summary(self) -> str:
        parts = []
        for label, counts in (
            ("created", self.created),
            ("updated", self.updated),
            ("disabled", self.disabled),
        ):
            counted = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()) if n)
            if counted:
                parts.append(f"{label} {counted}")
        text = "; ".join(parts) if parts else "nothing changed"
        if +self.skipped:
            counted = ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))
            text += f"; skipped {counted} (file entry unchanged since the last load)"
        return text


def read_catalog_file(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: the top level must be an object")
    return data


class _Checker:
    """Collects every problem of the file, each prefixed by the entry it belongs to."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def string(self, where: str, obj: dict[str, Any], key: str, *, required: bool = True,
               pattern: re.Pattern[str] | None = None, max_length: int = 200) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(where, f"'{key}' is required")
            return ""
        if not isinstance(value, str) or (required and not value):
            self.fail(where, f"'{key}' must be a non-empty string")
            return ""
        if pattern is not None and value and not pattern.match(value):
            self.fail(where, f"'{key}' has an invalid value {value!r}")
        if len(value) > max_length:
            self.fail(where, f"'{key}' is longer than {max_length} characters")
        return value

    def integer(self, where: str, obj: dict[str, Any], key: str, *, required: bool = True,
                minimum: int = 1) -> int | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(where, f"'{key}' is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(where, f"'{key}' must be an integer >= {minimum}, got {value!r}")
            return None
        return value

    def boolean(self, where: str, obj: dict[str, Any], key: str, *,
                nullable: bool = False) -> bool | None:
        value = obj.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            self.fail(where, f"'{key}' must be true or false, got {value!r}")
            return False
        return value

    def strings(self, where: str, obj: dict[str, Any], key: str, *,
                required: bool = True) -> list[str]:
        value = obj.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(where, f"'{key}' must be a list of strings")
            return []
        return list(value)

    def price(self, where: str, value: Any, key: str) -> Decimal:
        if not isinstance(value, str):
            self.fail(where, f"price '{key}' must be a decimal string, got {value!r}")
            return Decimal(0)
        try:
            price = Decimal(value)
        except InvalidOperation:
            self.fail(where, f"price '{key}' is not a decimal: {value!r}")
            return Decimal(0)
        if not price.is_finite() or price < 0:
            self.fail(where, f"price '{key}' must be a non-negative number: {value!r}")
            return Decimal(0)
        return price

    def data_policy(self, where: str, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, "'data_policy' must be an object")
            return None
        where = f"{where} data_policy"
        return {
            "training": self.boolean(where, value, "training"),
            "retains_prompts": self.boolean(where, value, "retains_prompts"),
            "retention_days": self.integer(where, value, "retention_days", required=False,
                                           minimum=0),
        }

    def entries(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, "must be a list")
            return []
        out = []
        for index, item in enumerate(value):
            label = item.get("slug") or item.get("id") if isinstance(item, dict) else None
            where = f"{key}[{index}]" + (f" ({label})" if label else "")
            if not isinstance(item, dict):
                self.fail(where, "must be an object")
                continue
            out.append((where, item))
        return out


@dataclass
class _Parsed:
    authors: dict[str, dict[str, Any]]
    providers: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]  # by model id; "author" holds the author slug
    endpoints: dict[tuple[str, str, str], dict[str, Any]]  # (model id, tag, variant)


def api_key_env_error(name: str) -> str | None:
    """Why `name` cannot hold a provider's key, or None when it can (empty = no key)."""
    if not name or API_KEY_ENV_RE.match(name):
        return None
    return (
        f"'api_key_env' must name a variable of the form <NAME>_API_KEY "
        f"(for example DEEPINFRA_API_KEY), not {name!r}"
    )


def _api_key_env(check: "_Checker", where: str, item: dict[str, Any]) -> str:
    name = check.string(where, item, "api_key_env", required=False, max_length=100)
    if error := api_key_env_error(name):
        check.fail(where, error)
    return name


def _parse(data: dict[str, Any], known_authors: set[str], known_providers: set[str]) -> _Parsed:
    check = _Checker()
    authors: dict[str, dict[str, Any]] = {}
    for where, item in check.entries(data, "authors"):
        slug = check.string(where, item, "slug", pattern=SLUG_RE, max_length=100)
        if slug in authors:
            check.fail(where, f"duplicate author slug {slug!r}")
        authors[slug] = {"slug": slug, "name": check.string(where, item, "name")}

    providers: dict[str, dict[str, Any]] = {}
    for where, item in check.entries(data, "providers"):
        slug = check.string(where, item, "slug", pattern=SLUG_RE, max_length=100)
        if slug in providers:
            check.fail(where, f"duplicate provider slug {slug!r}")
        name = check.string(where, item, "name")
        api_format = check.string(where, item, "api_format")
        if api_format and api_format not in API_FORMATS:
            check.fail(where, f"'api_format' must be one of {sorted(API_FORMATS)}")
        policy = check.data_policy(where, item.get("data_policy")) or {}
        providers[slug] = {
            "slug": slug,
            "name": name,
            "display_name": check.string(where, item, "display_name", required=False) or name,
            "api_format": api_format,
            "base_url": check.string(where, item, "base_url", required=False, pattern=URL_RE,
                                     max_length=500).rstrip("/"),
            "api_key_env": _api_key_env(check, where, item),
            "trains_on_prompts": bool(policy.get("training")),
            "retains_prompts": bool(policy.get("retains_prompts")),
            "retention_days": policy.get("retention_days"),
            "can_abort": check.boolean(where, item, "can_abort", nullable=True),
            "headquarters": check.string(where, item, "headquarters", required=False,
                                         max_length=2),
            "privacy_policy_url": check.string(where, item, "privacy_policy_url",
                                               required=False, pattern=URL_RE, max_length=500),
            "terms_of_service_url": check.string(where, item, "terms_of_service_url",
                                                 required=False, pattern=URL_RE, max_length=500),
            "status_page_url": check.string(where, item, "status_page_url", required=False,
                                            pattern=URL_RE, max_length=500),
            "enabled": True,
        }

    all_authors = known_authors | set(authors)
    all_providers = known_providers | set(providers)
    parsed_models: dict[str, dict[str, Any]] = {}
    endpoints: dict[tuple[str, str, str], dict[str, Any]] = {}
    for where, item in check.entries(data, "models"):
        model_id = check.string(where, item, "id")
        match = MODEL_ID_RE.match(model_id)
        if model_id and not match:
            check.fail(where, f"'id' must look like 'author/slug', got {model_id!r}")
        if model_id in parsed_models:
            check.fail(where, f"duplicate model id {model_id!r}")
        author = check.string(where, item, "author")
        if match and author and match.group(1) != author:
            check.fail(where, f"'author' {author!r} does not match the id's prefix")
        if author and author not in all_authors:
            check.fail(where, f"unknown author {author!r} (not in this file nor the database)")
        created = check.integer(where, item, "created", minimum=0)
        parsed_models[model_id] = {
            "model_id": model_id,
            "author": author,
            "slug": match.group(2) if match else "",
            "name": check.string(where, item, "name"),
            "description": check.string(where, item, "description", required=False,
                                        max_length=10_000),
            "created": datetime.fromtimestamp(created or 0, tz=UTC),
            "context_length": check.integer(where, item, "context_length"),
            "input_modalities": check.strings(where, item, "input_modalities"),
            "output_modalities": check.strings(where, item, "output_modalities"),
            "tokenizer": check.string(where, item, "tokenizer", required=False),
            "instruct_type": check.string(where, item, "instruct_type", required=False),
            "hugging_face_id": check.string(where, item, "hugging_face_id", required=False),
            "supported_parameters": check.strings(where, item, "supported_parameters",
                                                  required=False),
            "enabled": True,
        }
        raw_endpoints = item.get("endpoints", [])
        if not isinstance(raw_endpoints, list):
            check.fail(where, "'endpoints' must be a list")
            raw_endpoints = []
        for index, raw in enumerate(raw_endpoints):
            ewhere = f"{where} endpoints[{index}]"
            if not isinstance(raw, dict):
                check.fail(ewhere, "must be an object")
                continue
            endpoint = _parse_endpoint(check, ewhere, raw, all_providers)
            key = (model_id, endpoint["tag"], endpoint["variant"])
            if key in endpoints:
                check.fail(ewhere, f"duplicate endpoint {endpoint['tag']!r} for {model_id}")
            endpoints[key] = endpoint

    if check.errors:
        shown = check.errors[:20]
        more = len(check.errors) - len(shown)
        lines = "\n  ".join(shown) + (f"\n  … and {more} more" if more > 0 else "")
        raise CatalogError(f"invalid catalog, nothing was loaded:\n  {lines}")
    return _Parsed(authors, providers, parsed_models, endpoints)


def _parse_endpoint(check: _Checker, where: str, raw: dict[str, Any],
                    all_providers: set[str]) -> dict[str, Any]:
    provider = check.string(where, raw, "provider")
    if provider and provider not in all_providers:
        check.fail(where, f"unknown provider {provider!r} (not in this file nor the database)")
    tag = check.string(where, raw, "tag", required=False) or provider
    if provider and tag != provider and not tag.startswith(provider + "/"):
        check.fail(where, f"'tag' {tag!r} must be the provider slug or start with '{provider}/'")
    variant = check.string(where, raw, "variant", required=False)
    if variant not in ("", "free"):
        check.fail(where, f"'variant' must be 'free' or absent, got {variant!r}")
    tier = check.string(where, raw, "service_tier", required=False)
    if tier not in ("", "flex", "priority"):
        check.fail(where, f"'service_tier' must be 'flex' or 'priority', got {tier!r}")
    api_format = check.string(where, raw, "api_format", required=False)
    if api_format and api_format not in API_FORMATS:
        check.fail(where, f"'api_format' must be one of {sorted(API_FORMATS)}")
    status = check.string(where, raw, "status", required=False) or EndpointStatus.ENABLED
    if status not in EndpointStatus.values:
        check.fail(where, f"'status' must be one of {EndpointStatus.values}")
    pricing = raw.get("pricing")
    prices: dict[str, Decimal] = {}
    overrides: list[dict[str, Any]] = []
    if not isinstance(pricing, dict):
        check.fail(where, "'pricing' must be an object with 'prompt' and 'completion'")
    else:
        for key in ("prompt", "completion"):
            if key not in pricing:
                check.fail(where, f"pricing '{key}' is required")
        prices = {k: check.price(where, pricing.get(k, "0"), k) for k in PRICE_KEYS}
        unknown = set(pricing) - set(PRICE_KEYS) - {"overrides"}
        if unknown:
            check.fail(where, f"unknown pricing keys {sorted(unknown)}")
        raw_overrides = pricing.get("overrides", [])
        if not isinstance(raw_overrides, list):
            check.fail(where, "pricing 'overrides' must be a list")
            raw_overrides = []
        for override in raw_overrides:
            if not isinstance(override, dict) or "min_prompt_tokens" not in override:
                check.fail(where, "each pricing override needs 'min_prompt_tokens'")
                continue
            for key, value in override.items():
                if key != "min_prompt_tokens":
                    check.price(where, value, f"overrides.{key}")
            overrides.append(dict(override))
        if variant == "free" and (prices["prompt"] or prices["completion"]):
            check.fail(where, "a 'free' variant must be priced 0")
    policy = check.data_policy(where, raw["data_policy"]) if "data_policy" in raw else None
    return {
        "provider": provider,
        "tag": tag,
        "variant": variant,
        "service_tier": tier,
        "provider_model_id": check.string(where, raw, "provider_model_id", required=False),
        "api_format": api_format,
        "data_policy_override": policy,
        **{f"price_{k}": v for k, v in prices.items()},
        "pricing_overrides": overrides,
        "context_length": check.integer(where, raw, "context_length"),
        "max_completion_tokens": check.integer(where, raw, "max_completion_tokens",
                                               required=False),
        "max_prompt_tokens": check.integer(where, raw, "max_prompt_tokens", required=False),
        "quantization": check.string(where, raw, "quantization", required=False, max_length=20),
        "supported_parameters": check.strings(where, raw, "supported_parameters",
                                              required=False),
        "status": status,
        "price_source": check.string(where, raw, "price_source", required=False),
    }


M = TypeVar("M", bound=FromCatalogFile)


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Values as a JSONField gives them back (decimals and dates as strings), so the file's
    values compare equal to the ones stored at the previous load."""
    return json.loads(json.dumps(values, default=str))


def _sync(cls: type[M], existing: dict[Any, M], wanted: dict[Any, dict[str, Any]],
          result: LoadResult, kind: str, *, force: bool) -> dict[Any, M]:
    """Create missing rows and apply what the file changed; returns every wanted row."""
    to_create: dict[Any, M] = {}
    to_update: list[M] = []
    changed_fields: set[str] = set()
    for key, values in wanted.items():
        file_values = _as_json(values)
        row = existing.get(key)
        if row is None:
            to_create[key] = cls(**values, file_values=file_values)
            continue
        last = row.file_values
        if last == file_values and not force:
            result.skipped[kind] += 1
            continue
        # Apply only the fields the file changed since the last load: an operator's edit to any
        # other field stands. A row with no record (loaded before records were kept, or pruned
        # since) takes the whole entry, as does --force.
        if force or last is None:
            from_file = values
        else:
            from_file = {n: v for n, v in values.items() if file_values[n] != last.get(n)}
        diff = [name for name, value in from_file.items() if getattr(row, name) != value]
        for name in diff:
            setattr(row, name, values[name])
        if diff or last != file_values:
            row.file_values = file_values
            to_update.append(row)
            changed_fields.update(diff)
        if diff:
            result.updated[kind] += 1
    if to_create:
        cls._default_manager.bulk_create(to_create.values())
        result.created[kind] += len(to_create)
    if to_update:
        cls._default_manager.bulk_update(to_update, sorted(changed_fields | {"file_values"}))
    return {key: to_create.get(key) or existing[key] for key in wanted}


def load_catalog(data: dict[str, Any], *, prune: bool = False, force: bool = False) -> LoadResult:
    """Validate ``data`` completely, then upsert it in one transaction. ``force`` applies every
    entry to its row even where the file did not change (undoing admin edits)."""
    result = LoadResult()
    with transaction.atomic():
        authors = {a.slug: a for a in Author.objects.select_for_update()}
        providers = {p.slug: p for p in Provider.objects.select_for_update()}
        parsed = _parse(data, set(authors), set(providers))

        authors.update(_sync(Author, authors, parsed.authors, result, "authors", force=force))
        providers.update(
            _sync(Provider, providers, parsed.providers, result, "providers", force=force)
        )

        models = {m.model_id: m for m in Model.objects.all()}
        wanted_models = {}
        for model_id, values in parsed.models.items():
            values = dict(values)
            values["author_id"] = authors[values.pop("author")].pk
            wanted_models[model_id] = values
        models.update(_sync(Model, models, wanted_models, result, "models", force=force))

        endpoints = {
            (e.model.model_id, e.tag, e.variant): e
            for e in Endpoint.objects.select_related("model")
        }
        wanted_endpoints = {}
        for key, values in parsed.endpoints.items():
            values = dict(values)
            values["provider_id"] = providers[values.pop("provider")].pk
            values["model_id"] = models[key[0]].pk
            wanted_endpoints[key] = values
        _sync(Endpoint, endpoints, wanted_endpoints, result, "endpoints", force=force)

        if prune:
            _prune(parsed, result)
        if result.changed:
            schedule_publish()
    return result


def _prune(parsed: _Parsed, result: LoadResult) -> None:
    # A disabled row forgets its file values: listing it again re-applies the whole entry,
    # enabled included.
    result.disabled["providers"] += (
        Provider.objects.filter(enabled=True).exclude(slug__in=parsed.providers)
        .update(enabled=False, file_values=None)
    )
    result.disabled["models"] += (
        Model.objects.filter(enabled=True).exclude(model_id__in=parsed.models)
        .update(enabled=False, file_values=None)
    )
    keep = set(parsed.endpoints)
    stale = [
        pk
        for pk, model_id, tag, variant in Endpoint.objects.exclude(
            status=EndpointStatus.DISABLED
        ).values_list("pk", "model__model_id", "tag", "variant")
        if (model_id, tag, variant) not in keep
    ]
    if stale:
        result.disabled["endpoints"] += Endpoint.objects.filter(pk__in=stale).update(
            status=EndpointStatus.DISABLED, file_values=None
        )


def load_catalog_file(path: str | Path, *, prune: bool = False,
                      force: bool = False) -> LoadResult:
    return load_catalog(read_catalog_file(path), prune=prune, force=force)
