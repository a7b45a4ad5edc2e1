"""POST /api/v1/completions: `prompt` in, `text_completion` out, streamed or not."""

from tests.gateway.conftest import LLAMA, ONE_PER_FORMAT, World


def test_legacy_prompt_completion(world: World):
    completion = world.client().completions.create(model=LLAMA, prompt="The sky is",
                                                   max_tokens=30)
    assert completion.id.startswith("gen-")
    assert completion.object == "text_completion"
    assert completion.choices[0].text
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    (event,) = world.events()
    assert event["id"] == completion.id


def test_legacy_stream_on_a_non_openai_format(world: World):
    chunks = list(world.client().completions.create(
        model=ONE_PER_FORMAT[1], prompt="[sim:tokens=9] Once upon", max_tokens=30, stream=True))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 9
