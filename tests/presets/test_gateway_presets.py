"""Presets at the gateway: `@preset/<slug>`, `<model>@preset/<slug>` and the `preset` field,
with the official openai SDK against the simulator."""

import openai
import pytest

from tests.gateway.conftest import ANTHROPIC_MODEL, GEMINI_MODEL, LLAMA, OPENAI_MODEL
from tests.presets.conftest import openai_client, save, usage_events

pytestmark = pytest.mark.django_db(transaction=True)


def test_at_preset_uses_the_presets_model_system_prompt_and_parameters(
    ada, ada_key, gateway_url, sim, redis_client
):
    save(ada, "terse", model=GEMINI_MODEL, max_tokens=7,
         messages=[{"role": "system", "content": "Answer in one word."}])

    completion = openai_client(gateway_url, ada_key).chat.completions.create(
        model="@preset/terse", messages=[{"role": "user", "content": "[sim:tokens=40] hi"}])

    assert completion.model == GEMINI_MODEL
    assert completion.usage is not None and completion.usage.completion_tokens == 7
    assert completion.choices[0].finish_reason == "length"
    [event] = usage_events(redis_client)
    assert event["model"] == GEMINI_MODEL and event["user_id"] == ada.pk


def test_the_request_wins_over_the_preset(ada, ada_key, gateway_url):
    save(ada, "cheap", model=GEMINI_MODEL, max_tokens=3, temperature=0.1)
    client = openai_client(gateway_url, ada_key)

    named = client.chat.completions.create(
        model=f"{OPENAI_MODEL}@preset/cheap",
        messages=[{"role": "user", "content": "[sim:tokens=40] hi"}])
    field = client.chat.completions.create(
        model=ANTHROPIC_MODEL, max_tokens=5, extra_body={"preset": "cheap"},
        messages=[{"role": "user", "content": "[sim:tokens=40] hi"}])

    assert named.model == OPENAI_MODEL and named.usage.completion_tokens == 3
    assert field.model == ANTHROPIC_MODEL and field.usage.completion_tokens == 5


def test_a_new_version_is_in_force_at_once(ada, ada_key, gateway_url):
    save(ada, "moving", model=GEMINI_MODEL)
    client = openai_client(gateway_url, ada_key)
    first = client.chat.completions.create(
        model="@preset/moving", messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    save(ada, "moving", model=LLAMA)
    import time

    time.sleep(1.1)  # the gateway caches a preset for a second
    second = client.chat.completions.create(
        model="@preset/moving", messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    assert (first.model, second.model) == (GEMINI_MODEL, LLAMA)


def test_streaming_through_a_preset(ada, ada_key, gateway_url):
    save(ada, "streamy", models=[OPENAI_MODEL])
    save(ada, "streamy", model=ANTHROPIC_MODEL)
    stream = openai_client(gateway_url, ada_key).chat.completions.create(
        model="@preset/streamy", messages=[{"role": "user", "content": "hi"}], max_tokens=8,
        stream=True)
    chunks = list(stream)
    assert {c.model for c in chunks} == {ANTHROPIC_MODEL}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_unknown_or_other_accounts_preset_is_a_404(ada, ada_key, make_key, gateway_url):
    bob = make_key("bob@example.com", credits="5")
    save(ada, "mine", model=GEMINI_MODEL)
    for key, model in ((ada_key, "@preset/nope"), (bob, "@preset/mine")):
        with pytest.raises(openai.NotFoundError) as caught:
            openai_client(gateway_url, key).chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}])
        body = caught.value.body
        assert isinstance(body, dict) and "not found" in body["message"]


def test_a_preset_without_a_model_and_none_in_the_request_is_a_400(ada, ada_key, gateway_url):
    save(ada, "params-only", temperature=0.3, models=[])
    with pytest.raises(openai.BadRequestError):
        openai_client(gateway_url, ada_key).chat.completions.create(
            model="@preset/params-only", messages=[{"role": "user", "content": "hi"}])


def test_a_preset_defines_its_own_mixture_of_agents(ada, ada_key, gateway_url, redis_client):
    save(ada, "panel", system_prompt="Be brief.",
         moa={"proposers": [GEMINI_MODEL, LLAMA], "aggregator": OPENAI_MODEL, "layers": 2,
              "critique": True})

    answer = openai_client(gateway_url, ada_key).chat.completions.create(
        model="@preset/panel", max_tokens=16,
        messages=[{"role": "user", "content": "[sim:tokens=8] Name a colour."}])

    assert answer.model == "@preset/panel" and answer.choices[0].message.content
    roles = [(r["role"], r["layer"]) for r in answer.model_extra["moa"]["sub_generations"]]
    assert roles == [("proposer", 1), ("proposer", 1), ("proposer", 2), ("proposer", 2),
                     ("critique", 2), ("aggregator", 3)]
    events = usage_events(redis_client)
    subs = [e for e in events if e.get("parent_id") == answer.id]
    assert len(subs) == 6 and {e["model"] for e in subs} == {GEMINI_MODEL, LLAMA, OPENAI_MODEL}
