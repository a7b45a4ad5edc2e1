"""A gateway whose catalog has models that read files natively (Claude and Gemini, in their own
wire formats) and models that do not; PDFs are made in the tests."""

from collections.abc import Iterator
from typing import Any

import pytest

from gateway import pdf
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    ANTHROPIC_MODEL,
    GEMINI_MODEL,
    World,
    default_models,
    endpoint,
    model,
    running_world,
    sim,
    simulator,
)

SMALL = "test/small-context"  # 4,096 tokens of context


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:  # noqa: F811
    models = default_models(sim)
    for reader in (ANTHROPIC_MODEL, GEMINI_MODEL):
        models[reader]["input_modalities"] = ["text", "image", "file"]
    models[SMALL] = {**model(SMALL, endpoint(sim, 30, "deepinfra", "openai", "small",
                                             "0.0000001", "0.0000001", context_length=4096,
                                             max_completion_tokens=512)),
                     "context_length": 4096}
    with running_world(redis_client, sim, models) as w:
        yield w


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the gateway parsed (it runs in this process)."""
    seen: list[str] = []
    extract = pdf.extract

    def counting(data: bytes, name: str, max_pages: int) -> pdf.Parsed:
        seen.append(name)
        return extract(data, name, max_pages)

    monkeypatch.setattr(pdf, "extract", counting)
    return seen
