"""The virtual models (marketplace/data/virtual_models.json) as rows of the catalog's read side:
listed on /models and /api/v1/models with their composition, served by the gateway's
mixture-of-agents runner and auto router rather than by endpoints of their own.

A mixture's per-token price is shown as the sum of the prices of the calls it makes per token
(every proposer of every layer, the critique, the aggregator): a lower bound, since the
aggregator also reads the proposers' answers. The routers' price is the chosen model's, so it
is shown as -1, as OpenRouter shows its own routers'.
"""

from decimal import Decimal
from typing import Any

import orjson

from marketplace.catalog import ModelEntry
from presets.catalog import virtual_models

AUTHORS = {"openrouter": "OpenRouter", "openmarket": "OpenMarket"}
CREATED = 1735689600  # 2025-01-01: listed among the catalog's models, not ahead of them
VARIABLE = Decimal(-1)


def composition(model: dict[str, Any]) -> dict[str, Any]:
    if model["kind"] == "router":
        return {"kind": "router", "strategy": "category and difficulty of the prompt"}
    moa = model["moa"]
    return {"kind": model["kind"], "proposers": moa["proposers"], "layers": moa["layers"],
            "critique": moa.get("critique", False), "aggregator": moa["aggregator"]}


def _calls(moa: dict[str, Any]) -> list[str]:
    calls = list(moa["proposers"]) * int(moa["layers"]) + [moa["aggregator"]]
    if moa.get("critique") or moa.get("fusion"):
        calls.append(moa["aggregator"])
    return calls


def summary(model: dict[str, Any]) -> str:
    if model["kind"] == "router":
        return "Routes each request to one model of the catalog."
    moa = model["moa"]
    layers = f"{moa['layers']} layer{'s' if moa['layers'] > 1 else ''}"
    review = " · critique step" if moa.get("critique") else (
        " · analysis step" if model["kind"] == "fusion" else "")
    return (f"Proposers: {', '.join(moa['proposers'])} · {layers}{review} · "
            f"aggregator: {moa['aggregator']}")


def virtual_entries(known: dict[str, ModelEntry]) -> list[ModelEntry]:
    """Entries for the virtual models whose every component model is in the catalog."""
    entries = []
    for model in virtual_models():
        if model["kind"] == "router":
            if not known:
                continue
            prompt = completion = VARIABLE
            context = max(e.context_length for e in known.values())
        else:
            parts = [known.get(m) for m in _calls(model["moa"])]
            if not all(parts):
                continue
            prompt = sum((p.prompt for p in parts if p), Decimal(0))
            completion = sum((p.completion for p in parts if p), Decimal(0))
            context = min(p.context_length for p in parts if p)
        author = model["id"].split("/")[0]
        description = f"{model['description']} {summary(model)}"
        api = {
            "id": model["id"], "canonical_slug": model["id"], "hugging_face_id": None,
            "name": model["name"], "created": CREATED, "description": description,
            "context_length": context,
            "architecture": {"modality": "text->text", "input_modalities": ["text"],
                             "output_modalities": ["text"], "instruct_type": None,
                             "tokenizer": "Router"},
            "pricing": {"prompt": str(prompt), "completion": str(completion), "request": "0",
                        "image": "0"},
            "top_provider": {"context_length": context, "max_completion_tokens": None,
                             "is_moderated": False},
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "top_p", "stop", "tools",
                                     "tool_choice", "response_format"],
            "default_parameters": None, "supported_voices": None, "knowledge_cutoff": None,
            "expiration_date": None, "links": {"details": f"/{model['id']}"},
            "composition": composition(model),
        }
        entries.append(ModelEntry(
            id=model["id"], base_id=model["id"], name=model["name"], author=author,
            author_name=AUTHORS.get(author, author), description=description, created=CREATED,
            context_length=context, input_modalities=("text",), output_modalities=("text",),
            supported_parameters=frozenset(api["supported_parameters"]), tokenizer="Router",
            prompt=prompt, completion=completion, provider_slugs=frozenset(),
            provider_names=frozenset(), endpoint_count=0, is_variant_free=False, zdr=False,
            search_text=f"{model['id']} {model['name']}".lower(),
            api=api, api_json=orjson.dumps(api),
        ))
    return entries
