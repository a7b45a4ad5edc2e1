"""What the playground page needs from the catalog: a compact list of chat models to pick from.

The page searches this list by name in the browser, so it carries only what the picker and the
parameter panel use: which inputs a model takes, whether it reasons, its price and providers.
"""

from typing import Any

from marketplace.catalog import Catalog, ModelEntry

MAX_COLUMNS = 4
# The sampling and routing parameters the page offers, as the API names them.
REASONING_PARAMETERS = frozenset({"reasoning", "include_reasoning", "reasoning_effort"})


def _per_million(value: Any) -> str:
    return f"{value * 1_000_000:.2f}".rstrip("0").rstrip(".")


def pick_entry(entry: ModelEntry, providers: list[str]) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "image": "image" in entry.input_modalities,
        "reasoning": bool(REASONING_PARAMETERS & entry.supported_parameters),
        "free": entry.is_free,
        "prompt": _per_million(entry.prompt),
        "completion": _per_million(entry.completion),
        "context": entry.context_length,
        "providers": providers,
    }


def pickable_models(catalog: Catalog) -> list[dict[str, Any]]:
    """Every model that answers in text, in the catalog's default order (newest first)."""
    return [
        pick_entry(e, sorted(e.provider_slugs))
        for e in catalog.entries
        if "text" in e.output_modalities
    ]


def initial_models(requested: list[str], catalog: Catalog) -> list[str]:
    """The models named in the page's address (`?model=a&model=b`) that exist, at most four."""
    chosen: list[str] = []
    for model_id in requested:
        # A routing variant of a known model (":nitro", ":floor") is a model id too.
        known = model_id in catalog.by_id or model_id.split(":", 1)[0] in catalog.by_id
        if known and model_id not in chosen:
            chosen.append(model_id)
    return chosen[:MAX_COLUMNS]
