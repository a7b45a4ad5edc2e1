"""A PDF sent to a mixture of agents: every sub-call reads its text (mixtures re-parse their
body per sub-call, outside the per-attempt plugins)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.conftest import World, running_world
from tests.moa.conftest import mixture_models
from tests.plugins.files.pdfs import file_part, make_pdf

SENTENCE = "The heron waits by the quiet river at dawn."
MOA = "openmarket/moa-open-lite"


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:
    with running_world(redis_client, sim, mixture_models(sim)) as w:
        yield w


def test_every_sub_call_reads_the_pdf_as_text(world: World, parses):
    def ask(*parts: dict[str, Any]) -> Any:
        return world.client().chat.completions.create(model=MOA, max_tokens=30, messages=[
            {"role": "user", "content": [{"type": "text", "text": "Summarize."}, *parts]}])

    def sub_prompts() -> list[int]:
        return [e["tokens_prompt"] for e in world.events() if e.get("parent_id")]

    ask()
    before = sub_prompts()
    ask(file_part(make_pdf(" ".join([SENTENCE] * 20))))
    after = sub_prompts()[len(before):]
    assert parses == ["report.pdf"]  # once for the whole mixture
    # The three proposers (the smallest prompts) each read the text, ~200 tokens more than
    # without the file (one media part would be 85).
    assert len(after) == len(before) == 4
    assert all(p > min(before) + 200 for p in sorted(after)[:3])
