"""Anthropic thinking raises the upstream `max_tokens` to budget + requested; the hold covers
that raised figure, so a small credit cannot be overspent by a thinking request, and the
charge is still what the model produced."""

from decimal import Decimal

import openai
import pytest

from tests.clients.conftest import CLAUDE, World, publish_account

# The simulator answers exactly this many text tokens, so the answer fills the raised limit.
LONG = "Think it through. [sim:tokens=1500]"
COMPLETION_PRICE = Decimal("0.000015")


def test_small_credit_cannot_pay_for_the_raised_limit(world: World):
    publish_account(world.redis, credits_usd=0.005)
    with pytest.raises(openai.APIStatusError) as refused:
        world.client().chat.completions.create(
            model=CLAUDE, max_tokens=50, extra_body={"reasoning": {"max_tokens": 1024}},
            messages=[{"role": "user", "content": LONG}])
    assert refused.value.status_code == 402
    account = world.account()
    assert account["spent"] == 0 and not world.events()


def test_raised_limit_is_charged_by_tokens_produced(world: World):
    answer = world.client().chat.completions.create(
        model=CLAUDE, max_tokens=50, extra_body={"reasoning": {"max_tokens": 1024}},
        messages=[{"role": "user", "content": LONG}])
    usage = answer.usage
    assert usage is not None and usage.completion_tokens > 50  # thinking + answer, past 50
    (event,) = world.events()
    assert event["tokens_completion"] == usage.completion_tokens
    prompt_price = Decimal("0.000003")
    expected = usage.prompt_tokens * prompt_price + usage.completion_tokens * COMPLETION_PRICE
    assert Decimal(event["cost"]) == expected
    account = world.account()
    assert account["spent"] == int(expected * 10**9) and account["reserved"] == 0
