# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""openrouter/auto through the gateway: the prompt picks the model, the response names it, the
generation is billed as it; the auto-router plugin's allow and exclude lists."""

from decimal import Decimal

import openai
import pytest

from tests.auto_router.conftest import CODER, FLASH_LITE
from tests.gateway.conftest import ANTHROPIC_MODEL, LLAMA, NANOS, World


def ask(world: World, prompt: str, model: str = "openrouter/auto", **extra):
    return world.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=20,
        extra_body=extra or None)


def test_a_coding_prompt_goes_to_the_coding_model_and_is_billed_as_it(world: World):
    answer = ask(world, "Write a Python function that reverses a string.")
    assert answer.model == CODER
    [event] = world.events()
    assert event["model"] == CODER and event["provider"] == "deepinfra"
    usage = answer.usage
    expected = (Decimal("0.00000012") * usage.prompt_tokens
                + Decimal("0.0000003") * usage.completion_tokens)
    assert event["cost_nanos"] == int((expected * NANOS).to_integral_value())
    assert world.account()["spent"] == event["cost_nanos"]


def test_a_translation_goes_elsewhere_and_the_local_alias_works(world: World):
    assert ask(world, "Translate 'good night' into Italian.").model == FLASH_LITE
    assert ask(world, "Translate 'good night' into Italian.",
               model="openmarket/auto").model == FLASH_LITE


def test_allowed_models_limit_the_choice(world: World):
    answer = ask(world, "Write a Python function that reverses a string.",
                 plugins=[{"id": "auto-router", "allowed_models": ["anthropic/*"]}])
    assert answer.model == ANTHROPIC_MODEL


def test_excluded_models_are_never_chosen(world: World):
    answer = ask(world, "Write a Python function that reverses a string.",
                 plugins=[{"id": "auto-router", "excluded_models": ["qwen/*", "*/gpt-4o-mini"]}])
    assert answer.model not in (CODER, "openai/gpt-4o-mini")
    assert answer.model == LLAMA


def test_nothing_eligible_is_a_404_in_the_error_shape(world: World):
    with pytest.raises(openai.NotFoundError) as caught:
        ask(world, "hello", plugins=[{"id": "auto-router", "allowed_models": ["nobody/*"]}])
    assert caught.value.body["message"] == "No models match your request and model restrictions"


def test_bad_plugin_fields_are_a_400(world: World):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, "hello", plugins=[{"id": "auto-router", "allowed_models": "anthropic/*"}])
    assert "allowed_models" in caught.value.body["message"]


def test_streamed_auto_routed_chunks_name_the_chosen_model(world: World):
    stream = world.client().chat.completions.create(
        model="openrouter/auto", stream=True, max_tokens=10,
        messages=[{"role": "user", "content": "Translate 'thank you' into Spanish."}])
    assert {chunk.model for chunk in stream} == {FLASH_LITE}
