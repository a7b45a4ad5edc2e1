"""A gateway whose catalog holds a few of the auto router's picks, served by the simulator."""

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

CODER = "qwen/qwen-2.5-coder-32b-instruct"
FLASH_LITE = "google/gemini-2.5-flash-lite"


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:  # noqa: F811
    models = default_models(sim)
    models[CODER] = model(CODER, endpoint(sim, 20, "deepinfra", "openai", "qwen-coder",
                                          "0.00000012", "0.0000003"))
    models[FLASH_LITE] = model(FLASH_LITE, endpoint(sim, 21, "google-ai-studio", "gemini",
                                                    "gemini-2.5-flash-lite", "0.0000001",
                                                    "0.0000004"))
    with running_world(redis_client, sim, models) as w:
        yield w
