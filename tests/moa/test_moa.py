# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""Mixture-of-agents models through the gateway with the official openai SDK: every model call
a routed, metered sub-generation linked to the parent; totals in the response; proposers
streamed as reasoning, the aggregator's answer as content."""

import openai
import pytest

from simulator.testing import set_knobs
from tests.gateway.conftest import World
from tests.moa.conftest import LLAMA, MIXTRAL, QWEN, SONNET

LITE = "openmarket/moa-open-lite"


def ask(world: World, model: str, **extra):
    return world.client().chat.completions.create(
        model=model, max_tokens=24,
        messages=[{"role": "user", "content": "[sim:tokens=12] Name three rivers."}],
        extra_body=extra or None)


def split(world: World):
    events = world.events()
    parents = [e for e in events if not e.get("parent_id")]
    assert len(parents) == 1
    subs = [e for e in events if e.get("parent_id") == parents[0]["id"]]
    assert len(subs) == len(events) - 1
    return parents[0], subs


def test_one_layer_answer_with_totals_and_linked_sub_generations(world: World):
    answer = ask(world, LITE)

    assert answer.model == LITE and answer.choices[0].message.content
    assert answer.choices[0].finish_reason == "stop"
    parent, subs = split(world)
    assert parent["id"] == answer.id and parent["model"] == LITE and parent["cost_nanos"] == 0
    assert sorted(e["model"] for e in subs) == sorted([LLAMA, QWEN, MIXTRAL, LLAMA])
    total = sum(e["cost_nanos"] for e in subs)
    usage = answer.usage
    assert round(usage.model_extra["cost"] * 1e9) == total
    assert usage.prompt_tokens == sum(e["tokens_prompt"] for e in subs)
    assert usage.completion_tokens == sum(e["tokens_completion"] for e in subs)
    # Charged exactly once each; nothing left held.
    assert world.account()["spent"] == total
    assert world.account().get("reserved", 0) == 0
    meta = answer.model_extra["moa"]
    assert [row["role"] for row in meta["sub_generations"]] == ["proposer"] * 3 + ["aggregator"]
    assert meta["failed_models"] == []
    assert {row["id"] for row in parent["provider_responses"]} == {e["id"] for e in subs}


def test_streamed_proposers_come_as_reasoning_then_the_answer_as_content(world: World):
    chunks = list(world.client().chat.completions.create(
        model=LITE, max_tokens=24, stream=True,
        messages=[{"role": "user", "content": "[sim:tokens=12] Name three rivers."}]))

    kinds = []
    for chunk in chunks:
        for choice in chunk.choices:
            delta = choice.delta.model_extra or {}
            if delta.get("reasoning"):
                kinds.append("reasoning")
            if choice.delta.content:
                kinds.append("content")
    assert kinds[0] == "reasoning" and kinds[-1] == "content"
    assert kinds.index("content") > max(i for i, k in enumerate(kinds) if k == "reasoning")
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning") or ""
                        for c in chunks if c.choices)
    assert f"[{QWEN}]" in reasoning and f"[{MIXTRAL}]" in reasoning
    assert {c.model for c in chunks} == {LITE} and {c.id for c in chunks} == {chunks[0].id}
    last = chunks[-1]
    _, subs = split(world)
    assert round(last.usage.model_extra["cost"] * 1e9) == sum(e["cost_nanos"] for e in subs)
    assert all(e["streamed"] for e in subs)


def test_a_failing_proposer_drops_out_and_the_metadata_says_so(world: World):
    set_knobs(world.sim, "fireworks", error_rate=1.0)
    answer = ask(world, LITE)
    assert answer.choices[0].message.content
    failed = answer.model_extra["moa"]["failed_models"]
    assert [f["model"] for f in failed] == [MIXTRAL]
    _, subs = split(world)
    # The failed proposer never produced a generation; the others are charged.
    assert MIXTRAL not in [e["model"] for e in subs]
    assert world.account()["spent"] == sum(e["cost_nanos"] for e in subs)


def test_every_proposer_failing_is_an_error_in_the_usual_shape(world: World):
    for provider in ("fireworks", "novita", "deepinfra"):
        set_knobs(world.sim, provider, error_rate=1.0)
    with pytest.raises(openai.APIStatusError) as caught:
        ask(world, LITE)
    assert caught.value.status_code == 502
    body = caught.value.body
    assert body["message"] == "Every proposer of the mixture failed."
    assert body["metadata"]["failure_reason"] == "all_panels_failed"
    assert len(body["metadata"]["failed_models"]) == 3
    assert world.account().get("spent", 0) == 0 and world.account().get("reserved", 0) == 0


def test_a_failing_aggregator_falls_back_to_another_model(world: World):
    set_knobs(world.sim, "anthropic", error_rate=1.0)
    answer = ask(world, "custom", moa={"proposers": [LLAMA, QWEN], "aggregator": SONNET})
    assert answer.choices[0].message.content
    aggregator = answer.model_extra["moa"]["sub_generations"][-1]
    assert aggregator["role"] == "aggregator" and aggregator["model"] in (LLAMA, QWEN)


def test_three_layers_each_read_the_previous_answers(world: World):
    answer = ask(world, "openmarket/moa-open")
    rows = answer.model_extra["moa"]["sub_generations"]
    assert [r["layer"] for r in rows] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    _, subs = split(world)
    assert len(subs) == 10
    # Layers 2 and 3 got the previous answers: their prompts are longer than layer 1's.
    by_id = {e["id"]: e for e in subs}
    first = max(by_id[r["id"]]["tokens_prompt"] for r in rows if r["layer"] == 1)
    assert min(by_id[r["id"]]["tokens_prompt"] for r in rows if r["layer"] == 2) > first


def test_critique_mixture_samples_one_model_then_critiques(world: World):
    answer = ask(world, "openmarket/moa-critique")
    rows = answer.model_extra["moa"]["sub_generations"]
    assert [r["role"] for r in rows] == ["proposer"] * 3 + ["critique", "aggregator"]
    assert {r["model"] for r in rows} == {SONNET}


def test_not_enough_credit_for_every_sub_call_is_a_402_before_any_runs(world: World):
    world.redis.hset("gw:{s1}:account:1", "credits", 20_000)
    world.redis.hset("gw:account:1", "credits", 20_000)
    with pytest.raises(openai.APIStatusError) as caught:
        ask(world, "openmarket/moa-critique")
    assert caught.value.status_code == 402
    assert world.events() == []


def test_unknown_model_in_a_mixture_is_a_400(world: World):
    with pytest.raises(openai.BadRequestError):
        ask(world, "custom", moa={"proposers": ["nobody/nothing"], "aggregator": LLAMA})
    with pytest.raises(openai.BadRequestError):
        ask(world, "custom", moa={"proposers": [LLAMA], "aggregator": LLAMA, "layers": 9})


def test_fusion_plugin_runs_a_panel_an_analysis_and_answers_as_the_analyst(world: World):
    answer = ask(world, LLAMA, plugins=[
        {"id": "fusion", "analysis_models": [LLAMA, QWEN], "model": MIXTRAL}])
    assert answer.model == MIXTRAL and answer.choices[0].message.content
    meta = answer.model_extra["moa"]
    assert [r["role"] for r in meta["sub_generations"]] == [
        "proposer", "proposer", "analysis", "aggregator"]
    assert "analysis" in meta


def test_openrouter_fusion_alias_uses_the_default_panel(world: World):
    from tests.moa.conftest import GEMINI_PRO, GPT, OPUS

    answer = ask(world, "openrouter/fusion")
    assert answer.model == OPUS
    rows = answer.model_extra["moa"]["sub_generations"]
    assert {r["model"] for r in rows if r["role"] == "proposer"} == {OPUS, GPT, GEMINI_PRO}
