"""Web search through the real gateway and the openai SDK, answered from the local corpus."""

from typing import Any

import openai
import pytest

from gateway.search import SearchSettings
from simulator.text import count_tokens
from tests.gateway.conftest import (
    LLAMA,
    NANOS,
    OPENAI_MODEL,
    World,
    default_models,
    publish_account,
    publish_key,
    running_world,
)

QUESTION = "How does Redis persistence and replication work?"
SEARCH_NANOS = 20_000_000  # 5 results at $4 per 1,000


def ask(world: World, model: str = OPENAI_MODEL, max_tokens: int = 40, **extra: Any) -> Any:
    return world.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": QUESTION}], max_tokens=max_tokens,
        **extra)


def citations(annotations: Any) -> list[dict[str, Any]]:
    return [a if isinstance(a, dict) else a.model_dump(exclude_none=True)
            for a in annotations or []]


def token_nanos(usage: Any, prompt: int = 150, completion: int = 600) -> int:
    return usage.prompt_tokens * prompt + usage.completion_tokens * completion


def test_streamed_answer_carries_citations_of_the_corpus_pages(world: World) -> None:
    stream = ask(world, stream=True, extra_body={"plugins": [{"id": "web"}]})
    text, seen = "", []
    for chunk in stream:
        if not chunk.choices:
            usage = chunk.usage
            continue
        delta = chunk.choices[0].delta
        notes = citations((delta.model_extra or {}).get("annotations"))
        # A citation arrives with the delta that completes its link, before the answer ends.
        seen += [(note, len(text + (delta.content or "")), chunk.choices[0].finish_reason)
                 for note in notes]
        text += delta.content or ""
    cited = [(n, at) for n, at, _ in seen if n["url_citation"]["end_index"] > 0]
    assert cited, "the answer's citation was not annotated while streaming"
    note, at = cited[0]
    span = note["url_citation"]
    assert span["url"].startswith("https://redis.io/")
    assert text[span["start_index"]:span["end_index"]] == f"[redis.io]({span['url']})"
    assert at < len(text)  # annotated mid-stream, not only at the end
    urls = [n["url_citation"]["url"] for n, _, _ in seen]
    assert len(urls) == 5 == len(set(urls))
    assert all(u.startswith("https://redis.io/") for u in urls[:3])
    assert all(n["url_citation"]["title"] and n["url_citation"]["content"] for n, _, _ in seen)
    assert round(usage.cost * NANOS) == token_nanos(usage) + SEARCH_NANOS
    assert usage.model_extra["server_tool_use_details"] == {"web_search_requests": 1}


def test_non_streamed_answer_is_annotated_and_charged_for_five_results(world: World) -> None:
    before = world.account()["credits"] - world.account().get("spent", 0)
    answer = ask(world, extra_body={"plugins": [{"id": "web"}]})
    message = answer.choices[0].message
    notes = citations(message.annotations)
    assert len(notes) == 5
    first = notes[0]["url_citation"]
    assert message.content[first["start_index"]:first["end_index"]].startswith("[redis.io](")
    # The results reached the model: the prompt is much longer than the question alone.
    assert answer.usage.prompt_tokens > 200
    charge = token_nanos(answer.usage) + SEARCH_NANOS
    assert round(answer.usage.cost * NANOS) == charge
    after = world.account()["credits"] - world.account()["spent"]
    assert before - after == charge
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert event["cost_nanos"] == charge
    assert event["num_search_results"] == 5
    assert event["web_search_engine"] == "local-corpus"
    assert event["plugin_costs"] == {"web": "0.020000000"}
    stages = (answer.model_extra or {})["openrouter_metadata"]["pipeline"]
    stage = next(s for s in stages if s["name"] == "web-search")
    assert stage["type"] == "plugin" and stage["cost_usd"] == 0.02
    assert stage["data"]["engine"] == "local-corpus" and len(stage["data"]["results"]) == 5


def test_online_suffix_is_web_search_on_the_base_model(world: World) -> None:
    answer = ask(world, model=f"{OPENAI_MODEL}:online")
    assert answer.model == OPENAI_MODEL
    assert len(citations(answer.choices[0].message.annotations)) == 5
    assert round(answer.usage.cost * NANOS) == token_nanos(answer.usage) + SEARCH_NANOS


def test_max_results_and_search_prompt_are_honoured(world: World) -> None:
    # The simulated model obeys a length directive in its prompt: here only the search
    # prompt carries one, so the answer's length shows that the prompt reached the model.
    answer = ask(world, max_tokens=100, extra_body={"plugins": [{
        "id": "web", "max_results": 2, "search_prompt": "Web search results [sim:tokens=7]"}]})
    assert len(citations(answer.choices[0].message.annotations)) == 2
    assert round(answer.usage.cost * NANOS) == token_nanos(answer.usage) + 8_000_000
    content = answer.choices[0].message.content
    cited = content[:content.index("), ") + 3]
    assert answer.usage.completion_tokens == count_tokens(cited) + 7


def test_server_tool_runs_the_search(world: World) -> None:
    answer = ask(world, extra_body={"tools": [
        {"type": "openrouter:web_search", "parameters": {"max_results": 3}}]})
    assert len(citations(answer.choices[0].message.annotations)) == 3
    assert answer.choices[0].finish_reason != "tool_calls"
    assert not answer.choices[0].message.tool_calls
    assert round(answer.usage.cost * NANOS) == token_nanos(answer.usage) + 12_000_000


def test_disabled_web_plugin_searches_nothing(world: World) -> None:
    answer = ask(world, extra_body={"plugins": [{"id": "web", "enabled": False}]})
    assert not answer.choices[0].message.annotations
    assert round(answer.usage.cost * NANOS) == token_nanos(answer.usage)


@pytest.mark.parametrize("bad", [{"max_results": 0}, {"max_results": "5"},
                                 {"search_prompt": 3}, {"engine": "altavista"},
                                 {"include_domains": "redis.io"}])
def test_bad_options_are_400s(world: World, bad: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, extra_body={"plugins": [{"id": "web", **bad}]})
    assert "plugins[web]" in caught.value.message
    assert world.events() == []


def test_search_service_down_is_a_503_and_nothing_is_charged(redis_client: Any, sim: str
                                                             ) -> None:
    down = SearchSettings(engine="local", url="http://127.0.0.1:9/search", timeout=2)
    with running_world(redis_client, sim, default_models(sim), web_search=down) as world:
        for stream in (False, True):
            with pytest.raises(openai.APIStatusError) as caught:
                ask(world, model=LLAMA, stream=stream, extra_body={"plugins": [{"id": "web"}]})
            assert caught.value.status_code == 503
            assert "Web search is unavailable" in caught.value.message
            error: Any = caught.value.body
            assert error["metadata"]["engine"] == "local-corpus"
        assert world.account().get("spent", 0) == 0
        assert world.events() == []
        ask(world, model=LLAMA)  # without web search the model still answers


def test_responses_api_gets_flat_url_citations(world: World) -> None:
    client = world.client()
    answer = client.responses.create(model=OPENAI_MODEL, input=QUESTION, max_output_tokens=40,
                                     extra_body={"plugins": [{"id": "web"}]})
    part = next(i for i in answer.output if i.type == "message").content[0]
    assert len(part.annotations) == 5
    first = part.annotations[0]
    assert first.type == "url_citation" and first.url.startswith("https://redis.io/")
    assert part.text[first.start_index:first.end_index].startswith("[redis.io](")

    events = list(client.responses.create(model=OPENAI_MODEL, input=QUESTION, stream=True,
                                          max_output_tokens=40,
                                          extra_body={"plugins": [{"id": "web"}]}))
    added = [e for e in events if e.type == "response.output_text.annotation.added"]
    assert [e.annotation_index for e in added] == [0, 1, 2, 3, 4]
    done = next(e for e in events
                if e.type in ("response.completed", "response.incomplete")).response
    streamed = next(i for i in done.output if i.type == "message").content[0]
    assert [a.url for a in streamed.annotations] == [e.annotation.url for e in added]


def test_the_hold_counts_the_search_so_a_small_credit_is_refused_before_searching(
        world: World) -> None:
    # $0.015: enough for the tokens, not for them plus five results at $0.004.
    publish_account(world.redis, user_id=9, credits_usd=0.015)
    poor = world.client(publish_key(world.redis, user_id=9))
    with pytest.raises(openai.APIStatusError) as caught:
        poor.chat.completions.create(model=LLAMA, max_tokens=40, extra_body={
            "plugins": [{"id": "web"}]}, messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.status_code == 402
    assert world.events() == []
    # One result fits: searched, answered and charged within the credit.
    answer = poor.chat.completions.create(model=LLAMA, max_tokens=40, extra_body={
        "plugins": [{"id": "web", "max_results": 1}]},
        messages=[{"role": "user", "content": QUESTION}])
    assert len(citations(answer.choices[0].message.annotations)) == 1
    (event,) = world.events()
    assert event["cost_nanos"] == round(answer.usage.cost * NANOS) > 4_000_000


def test_messages_api_gets_web_search_citations_on_the_text_block(world: World) -> None:
    import anthropic

    client: Any = anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key,
                                      max_retries=0)
    kwargs: Any = {"model": OPENAI_MODEL, "max_tokens": 40, "extra_body": {
        "plugins": [{"id": "web"}]}, "messages": [{"role": "user", "content": QUESTION}]}
    message = client.messages.create(**kwargs)
    text = next(b for b in message.content if b.type == "text")
    assert len(text.citations) == 5
    assert text.citations[0].type == "web_search_result_location"
    assert text.citations[0].url.startswith("https://redis.io/")

    with client.messages.stream(**kwargs) as stream:
        events = list(stream)
        final = stream.get_final_message()
    deltas = [e for e in events if e.type == "content_block_delta"
              and e.delta.type == "citations_delta"]
    assert len(deltas) == 5
    streamed = next(b for b in final.content if b.type == "text")
    assert [c.url for c in streamed.citations] == [d.delta.citation.url for d in deltas]
