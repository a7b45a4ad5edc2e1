"""POST /api/v1/embeddings with the openai SDK against the simulator's OpenAI and Gemini
embedding endpoints: shapes, dimensions, encodings, token arrays, billing, errors."""

import base64
import math
import struct
from decimal import Decimal

import httpx
import openai
import pytest

from tests.clients.conftest import CLAUDE, GEMINI_EMBED, LARGE, SMALL, World


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.mark.parametrize(("model", "size"), [(SMALL, 1536), (LARGE, 3072), (GEMINI_EMBED, 3072)])
def test_vectors_have_the_models_size_and_are_billed(world: World, model: str, size: int):
    result = world.client().embeddings.create(model=model, input=["a red apple", "green tea"],
                                              encoding_format="float")
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == size for d in result.data)
    assert result.model == model and result.usage.prompt_tokens > 0
    (event,) = world.events()
    assert event["api_type"] == "embeddings" and event["tokens_prompt"] == \
        result.usage.prompt_tokens
    price = {SMALL: "0.00000002", LARGE: "0.00000013", GEMINI_EMBED: "0.00000015"}[model]
    assert Decimal(event["cost"]) == result.usage.prompt_tokens * Decimal(price)
    assert Decimal(str(result.model_dump()["usage"]["cost"])) == Decimal(event["cost"])


@pytest.mark.parametrize("model", [SMALL, GEMINI_EMBED])
def test_same_text_same_vector_and_similar_texts_closer(world: World, model: str):
    client = world.client()
    texts = ["the cat sat on the mat", "the cat sat on the mat", "a cat sat on a mat",
             "quarterly revenue grew by ten percent"]
    vectors = [d.embedding for d in client.embeddings.create(model=model, input=texts).data]
    assert vectors[0] == vectors[1]
    assert cosine(vectors[0], vectors[2]) > cosine(vectors[0], vectors[3]) + 0.3


@pytest.mark.parametrize("model", [SMALL, GEMINI_EMBED])
def test_dimensions_shorten_the_vector(world: World, model: str):
    result = world.client().embeddings.create(model=model, input="hello", dimensions=256)
    vector = result.data[0].embedding
    assert len(vector) == 256 and abs(sum(v * v for v in vector) - 1) < 1e-4


def test_base64_encoding_and_token_arrays(world: World):
    response = httpx.post(world.url + "/api/v1/embeddings",
                          headers={"authorization": f"Bearer {world.key}"},
                          json={"model": SMALL, "input": "hello world",
                                "encoding_format": "base64"})
    assert response.status_code == 200 and response.headers["x-generation-id"]
    body = response.json()
    raw = base64.b64decode(body["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    floats = world.client().embeddings.create(model=SMALL, input="hello world",
                                              encoding_format="float").data[0].embedding
    assert len(decoded) == 1536 and max(abs(a - b) for a, b in zip(decoded, floats,
                                                                   strict=True)) < 1e-6
    tokens = world.client().embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]],
                                              encoding_format="float")
    assert len(tokens.data) == 2
    single = world.client().embeddings.create(model=SMALL, input=[15339, 1917])
    assert len(single.data) == 1


@pytest.mark.parametrize("bad", ["", [], [""], [[]], None, 5])
def test_empty_or_malformed_input_is_a_400(world: World, bad: object):
    with pytest.raises(openai.BadRequestError):
        world.client().embeddings.create(model=SMALL, input=bad)


def test_a_chat_model_is_not_an_embedding_model(world: World):
    with pytest.raises(openai.NotFoundError):
        world.client().embeddings.create(model=CLAUDE, input="x")
    assert world.events() == []
