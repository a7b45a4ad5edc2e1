"""A gateway whose catalog holds the models of the shipped mixtures, served by the simulator
(one provider per model, so a provider's outage fails exactly one model)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.conftest import (  # noqa: F401  (fixtures)
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

LLAMA = "meta-llama/llama-3.3-70b-instruct"
QWEN = "qwen/qwen-2.5-72b-instruct"
MIXTRAL = "mistralai/mixtral-8x7b-instruct"
SONNET = "anthropic/claude-sonnet-4.5"
OPUS = "anthropic/claude-opus-4.7"
GPT = "openai/gpt-5.2"
GEMINI_PRO = "google/gemini-3.1-pro-preview"

EXTRA = [  # model, endpoint id, provider, wire format, prompt price, completion price
    (QWEN, 30, "novita", "openai", "0.00000036", "0.0000004"),
    (MIXTRAL, 31, "fireworks", "openai", "0.0000004", "0.0000004"),
    (SONNET, 32, "anthropic", "anthropic", "0.000003", "0.000015"),
    (OPUS, 33, "anthropic", "anthropic", "0.000005", "0.000025"),
    (GPT, 34, "openai", "openai", "0.00000175", "0.000014"),
    (GEMINI_PRO, 35, "google-ai-studio", "gemini", "0.000002", "0.000012"),
]


def mixture_models(sim: str) -> dict[str, Any]:  # noqa: F811
    models = default_models(sim)
    # Llama on one provider only, so that its outage is one knob.
    models[LLAMA] = model(LLAMA, endpoint(sim, 4, "deepinfra", "openai", "llama-3.3-70b",
                                          "0.0000001", "0.00000032"))
    for model_id, ep_id, provider, fmt, prompt, completion in EXTRA:
        models[model_id] = model(model_id, endpoint(sim, ep_id, provider, fmt,
                                                    model_id.split("/")[1], prompt, completion))
    return models


@pytest.fixture
def gateway_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def world(redis_client: Any, sim: str, gateway_options: dict[str, Any]  # noqa: F811
          ) -> Iterator[World]:
    with running_world(redis_client, sim, mixture_models(sim), **gateway_options) as w:
        yield w
