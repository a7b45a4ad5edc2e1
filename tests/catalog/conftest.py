"""Catalog fixtures: the shipped catalog loaded into the test database and published to this
worker's Redis, and small catalog files an operator would write."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from marketplace.publish import publish_catalog

CatalogFile = Callable[[dict[str, Any]], Path]


@pytest.fixture
def shipped_catalog() -> dict[str, Any]:
    return json.loads(DEFAULT_CATALOG.read_text())


@pytest.fixture
def loaded(db, redis_client) -> None:
    """The real catalog (96 models, 333 endpoints) loaded and published."""
    load_catalog_file(DEFAULT_CATALOG)
    publish_catalog()


@pytest.fixture
def write_catalog(tmp_path: Path) -> CatalogFile:
    counter = iter(range(1000))

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / f"catalog-{next(counter)}.json"
        path.write_text(json.dumps(data))
        return path

    return write


def tiny_catalog(**model_overrides: Any) -> dict[str, Any]:
    """One author, one provider pointed at a local OpenAI-compatible server, one model."""
    model = {
        "id": "acme/rocket-7b",
        "name": "Acme: Rocket 7B",
        "author": "acme",
        "description": "A small test model.",
        "context_length": 32768,
        "created": 1750000000,
        "input_modalities": ["text"],
        "output_modalities": ["text"],
        "tokenizer": "Llama3",
        "supported_parameters": ["max_tokens", "temperature", "tools"],
        "endpoints": [
            {
                "provider": "local-vllm",
                "context_length": 32768,
                "max_completion_tokens": 4096,
                "quantization": "bf16",
                "pricing": {"prompt": "0.0000002", "completion": "0.0000006"},
                "supported_parameters": ["max_tokens", "temperature", "tools"],
            }
        ],
    }
    model.update(model_overrides)
    return {
        "authors": [{"slug": "acme", "name": "Acme"}],
        "providers": [
            {
                "slug": "local-vllm",
                "name": "Local vLLM",
                "display_name": "Local vLLM",
                "api_format": "openai",
                "base_url": "http://127.0.0.1:8080/v1",
                "api_key_env": "LOCAL_VLLM_API_KEY",
                "data_policy": {
                    "training": False,
                    "retains_prompts": False,
                    "retention_days": None,
                },
                "can_abort": True,
                "headquarters": None,
            }
        ],
        "models": [model],
    }


OPENAPI = json.loads((Path(__file__).parent / "openrouter-openapi-subset.json").read_text())


def assert_matches_schema(instance: Any, schema: dict[str, Any]) -> None:
    """Validate against OpenRouter's OpenAPI schemas (a copy of the reference subset)."""
    from jsonschema import Draft202012Validator

    root = {**schema, "components": OPENAPI["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def response_schema(path: str) -> dict[str, Any]:
    return OPENAPI["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
