"""Prompt caching: `cache_control` reaches Anthropic-format providers, the simulator's
provider-side cache reports reads and writes in each wire format, and the gateway reports
`cached_tokens`/`cache_write_tokens` and charges the endpoint's cache prices."""

from decimal import Decimal
from typing import Any

import anthropic
import pytest

from tests.clients.conftest import CLAUDE, GEMINI, O4, World

LONG = "The handbook says: " + " rule" * 1500  # well over the 1,024-token minimum
PRICES = {CLAUDE: ("0.000003", "0.000015", "0.0000003", "0.00000375"),
          O4: ("0.0000011", "0.0000044", "0.000000275", "0"),
          GEMINI: ("0.0000003", "0.0000025", "0.000000075", "0")}


def expected_cost(model: str, usage: dict[str, Any]) -> Decimal:
    prompt, completion, read, write = (Decimal(p) for p in PRICES[model])
    details = usage["prompt_tokens_details"]
    cached, written = details["cached_tokens"], details["cache_write_tokens"]
    return ((usage["prompt_tokens"] - cached - written) * prompt + cached * read
            + written * write + usage["completion_tokens"] * completion)


def test_anthropic_breakpoint_is_written_then_read_and_charged_at_cache_prices(world: World):
    messages = [{"role": "system", "content": [
                    {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "First question"}]
    client = world.client()
    first = client.chat.completions.create(model=CLAUDE, messages=messages, max_tokens=50)
    second = client.chat.completions.create(
        model=CLAUDE, max_tokens=50, messages=[*messages[:1],
                                               {"role": "user", "content": "Another one"}])
    one, two = first.usage.model_dump(), second.usage.model_dump()
    written = one["prompt_tokens_details"]["cache_write_tokens"]
    assert written > 1024 and one["prompt_tokens_details"]["cached_tokens"] == 0
    assert two["prompt_tokens_details"]["cached_tokens"] == written
    assert two["prompt_tokens_details"]["cache_write_tokens"] == 0
    events = world.events()
    for usage, event in zip((one, two), events, strict=True):
        assert Decimal(event["cost"]) == expected_cost(CLAUDE, usage)
        assert event["tokens_cached"] == usage["prompt_tokens_details"]["cached_tokens"]
    assert Decimal(events[1]["cost"]) < Decimal(events[0]["cost"])


def test_messages_api_reports_cache_reads_and_writes(world: World):
    client = anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key, max_retries=0)
    system: Any = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral",
                                                                    "ttl": "1h"}}]
    first = client.messages.create(model=CLAUDE, max_tokens=50, system=system,
                                   messages=[{"role": "user", "content": "Hi"}])
    with client.messages.stream(model=CLAUDE, max_tokens=50, system=system,
                                messages=[{"role": "user", "content": "Hello"}]) as stream:
        second = stream.get_final_message()
    assert first.usage.cache_creation_input_tokens and not first.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_top_level_cache_control_caches_the_whole_conversation(world: World):
    client = anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key, max_retries=0)
    turn: Any = [{"role": "user", "content": LONG}]
    first = client.messages.create(model=CLAUDE, max_tokens=20, messages=turn,
                                   extra_body={"cache_control": {"type": "ephemeral"}})
    assert first.usage.cache_creation_input_tokens
    follow = [*turn, {"role": "assistant", "content": "Noted."},
              {"role": "user", "content": "And then?"}]
    second = client.messages.create(model=CLAUDE, max_tokens=20, messages=follow,
                                    extra_body={"cache_control": {"type": "ephemeral"}})
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


@pytest.mark.parametrize("model", [O4, GEMINI])
def test_implicit_caching_of_a_repeated_long_prefix(world: World, model: str):
    client = world.client()
    # cache_control is stripped for these providers; their own caching is automatic.
    opening = {"role": "user", "content": [{"type": "text", "text": LONG,
                                            "cache_control": {"type": "ephemeral"}}]}
    first = client.chat.completions.create(model=model, messages=[opening], max_tokens=30)
    second = client.chat.completions.create(model=model, max_tokens=30, messages=[
        opening, {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "Summarise it"}])
    one, two = first.usage.model_dump(), second.usage.model_dump()
    assert one["prompt_tokens_details"]["cached_tokens"] == 0
    cached = two["prompt_tokens_details"]["cached_tokens"]
    assert 1024 < cached < two["prompt_tokens"]
    assert two["prompt_tokens_details"]["cache_write_tokens"] == 0
    assert Decimal(world.events()[1]["cost"]) == expected_cost(model, two)


def test_short_prompts_are_never_cached(world: World):
    body: Any = {"model": CLAUDE, "max_tokens": 20, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]}]}
    for _ in range(2):
        usage = world.client().chat.completions.create(**body).usage.model_dump()
        details = usage["prompt_tokens_details"]
        assert details["cached_tokens"] == details["cache_write_tokens"] == 0
