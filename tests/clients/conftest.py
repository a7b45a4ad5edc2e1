"""A gateway and a simulator as in tests/gateway, with reasoning models added to the catalog.

Each wire format has a reasoning model: an Anthropic model (thinking with signatures), a
Gemini 2.5 model (thought signatures), OpenAI's o4-mini (hidden reasoning, counted tokens)
and an open reasoning model on an OpenAI-compatible host (reasoning text).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.conftest import (  # noqa: F401  (fixtures used by this folder's tests)
    PARAMS,
    World,
    default_models,
    endpoint,
    gateway_settings,
    model,
    publish_account,
    publish_catalog,
    publish_key,
    running_world,
    sim,
    simulator,
)

REASONING_PARAMS = [*PARAMS, "reasoning", "include_reasoning", "parallel_tool_calls"]
CLAUDE = "anthropic/claude-sonnet-4"
GEMINI = "google/gemini-2.5-flash"
O4 = "openai/o4-mini"
R1 = "deepseek/deepseek-r1"
REASONING_MODELS = [CLAUDE, GEMINI, O4, R1]
SMALL = "openai/text-embedding-3-small"
LARGE = "openai/text-embedding-3-large"
GEMINI_EMBED = "google/gemini-embedding-001"


def embedding_models(sim_url: str) -> dict[str, Any]:
    def embedder(model_id: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
        return {**model(model_id, *endpoints), "output_modalities": ["embeddings"],
                "supported_parameters": ["dimensions", "encoding_format"]}

    return {
        SMALL: embedder(SMALL, endpoint(sim_url, 31, "openai", "openai",
                                        "text-embedding-3-small", "0.00000002", "0")),
        LARGE: embedder(LARGE, endpoint(sim_url, 32, "openai", "openai",
                                        "text-embedding-3-large", "0.00000013", "0")),
        GEMINI_EMBED: embedder(GEMINI_EMBED, endpoint(
            sim_url, 33, "google-ai-studio", "gemini", "gemini-embedding-001", "0.00000015",
            "0")),
    }


def prices(prompt: str, completion: str, read: str = "0", write: str = "0") -> dict[str, str]:
    return {"prompt": prompt, "completion": completion, "request": "0", "image": "0",
            "input_cache_read": read, "input_cache_write": write}


def reasoning_models(sim_url: str) -> dict[str, Any]:
    def thinking(model_id: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
        return {**model(model_id, *endpoints), "supported_parameters": REASONING_PARAMS}

    def ep(*args: Any, **extra: Any) -> dict[str, Any]:
        return endpoint(sim_url, *args, supported_parameters=REASONING_PARAMS, **extra)

    return {
        CLAUDE: thinking(CLAUDE, ep(21, "anthropic", "anthropic", "claude-sonnet-4",
                                    "0.000003", "0.000015", pricing=prices(
                                        "0.000003", "0.000015", "0.0000003", "0.00000375"))),
        GEMINI: thinking(GEMINI, ep(22, "google-ai-studio", "gemini", "gemini-2.5-flash",
                                    "0.0000003", "0.0000025", pricing=prices(
                                        "0.0000003", "0.0000025", "0.000000075"))),
        O4: thinking(O4, ep(23, "openai", "openai", "o4-mini", "0.0000011", "0.0000044",
                            pricing=prices("0.0000011", "0.0000044", "0.000000275"))),
        R1: thinking(R1, ep(24, "deepinfra", "openai", "deepseek-r1", "0.0000005",
                            "0.00000215")),
    }


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:  # noqa: F811
    """A running gateway with the default and the reasoning models, $10 and one key."""
    models = {**default_models(sim), **reasoning_models(sim), **embedding_models(sim)}
    with running_world(redis_client, sim, models) as w:
        yield w
