"""Context compression through the real gateway and simulator with the openai SDK: a prompt
three times too long for a small-context model is compressed and answered, streamed and not;
with `transforms: []` it is refused with the context-length error; a fallback to an endpoint
that holds the prompt sends it whole."""

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from simulator.testing import recent_requests, set_knobs
from tests.gateway.conftest import World, endpoint, model, running_world

SMALL = "acme/small-context"  # one endpoint of 4,096 tokens: compressed by default
PAIR = "acme/small-and-large"  # 4,096 (cheap) and 131,072 (dear)
MEDIUM = "acme/medium-context"  # 16,384: compressed only when asked
WORDS = " river stone cloud signal garden market bridge engine forest silver"  # 10 tokens


def talk(tokens: int) -> list[dict[str, Any]]:
    """A system prompt, many turns of about 500 tokens, and a last question."""
    turn = WORDS * 50
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are terse."}]
    for i in range(tokens // 500):
        messages.append({"role": "user" if i % 2 == 0 else "assistant",
                         "content": f"turn {i}:{turn}"})
    messages.append({"role": "user", "content": "So what is the answer?"})
    return messages


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:
    def ep(endpoint_id: int, provider: str, price: str, context: int) -> dict[str, Any]:
        return endpoint(sim, endpoint_id, provider, "openai", "m", price, price,
                        context_length=context, max_completion_tokens=None)

    models = {
        SMALL: model(SMALL, ep(1, "alpha", "0.0000001", 4096)),
        PAIR: model(PAIR, ep(2, "alpha", "0.0000001", 4096), ep(3, "beta", "0.000001", 131072)),
        MEDIUM: model(MEDIUM, ep(4, "gamma", "0.0000001", 16384)),
    }
    for name, context in ((SMALL, 4096), (PAIR, 131072), (MEDIUM, 16384)):
        models[name]["context_length"] = context
    with running_world(redis_client, sim, models) as w:
        yield w


def stages(payload: Any) -> dict[str, Any]:
    meta = (payload.model_extra or {}).get("openrouter_metadata") or {}
    return {s["type"]: s for s in meta.get("pipeline") or ()}


def ask(world: World, model_id: str, messages: list[dict[str, Any]], **extra: Any) -> Any:
    return world.client().chat.completions.create(model=model_id, messages=messages,
                                                  max_tokens=32, **extra)


def test_three_times_too_long_is_compressed_and_answered(world: World) -> None:
    messages = talk(12_500)
    answer = ask(world, SMALL, messages)
    assert answer.choices[0].message.content
    # What the provider counted (and billed) fits its context with room for the answer.
    assert answer.usage.prompt_tokens + 32 <= 4096
    assert answer.usage.prompt_tokens > 2000  # most of the room is used, not thrown away
    stage = stages(answer)["context_compression"]
    assert stage["data"]["original_tokens"] > 3 * 4096
    assert stage["data"]["removed_messages"] > 0
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert event["tokens_prompt"] == answer.usage.prompt_tokens
    assert event["context_compression"]["compressed_tokens"] <= 4096


def test_compressed_stream(world: World) -> None:
    chunks = list(ask(world, SMALL, talk(12_500), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage.prompt_tokens + 32 <= 4096
    assert "context_compression" in stages(chunks[-1])


@pytest.mark.parametrize("off", [{"transforms": []},
                                 {"plugins": [{"id": "context-compression", "enabled": False}]}])
def test_without_compression_it_is_refused_naming_the_largest_context(
        world: World, off: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, SMALL, talk(12_500), extra_body=off)
    error: Any = caught.value.body
    assert caught.value.status_code == 400
    assert error["metadata"]["error_type"] == "context_length_exceeded"
    assert error["metadata"]["max_context_length"] == 4096
    assert "4096" in error["message"] and "middle-out" in error["message"]
    assert world.events() == []


def test_an_endpoint_that_holds_the_prompt_goes_first_and_gets_it_whole(world: World) -> None:
    messages = talk(6_000)
    answer = ask(world, PAIR, messages)
    assert answer.provider == "Beta"  # dearer, but it holds the whole prompt
    assert answer.usage.prompt_tokens > 6_000
    assert stages(answer) == {}


def test_fallback_to_the_small_endpoint_compresses_for_it_alone(world: World) -> None:
    set_knobs(world.sim, "beta", error_rate=1.0)
    answer = ask(world, PAIR, talk(6_000))
    assert answer.provider == "Alpha"
    assert answer.usage.prompt_tokens + 32 <= 4096
    assert "context_compression" in stages(answer)
    beta = recent_requests(world.sim, "beta")
    assert beta and all(r["status"] >= 500 for r in beta)


def test_larger_contexts_compress_only_when_asked(world: World) -> None:
    messages = talk(20_000)
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, MEDIUM, messages)
    assert (caught.value.body or {})["metadata"]["max_context_length"] == 16384  # type: ignore[index]
    answer = ask(world, MEDIUM, messages, extra_body={"transforms": ["middle-out"]})
    assert answer.usage.prompt_tokens + 32 <= 16384
    assert answer.usage.prompt_tokens > 10_000
