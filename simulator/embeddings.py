"""Deterministic embeddings in the OpenAI and Gemini wire formats.

A text's vector is the normalised sum of one pseudo-random vector per lower-cased word (seeded
by the word), so the same text always gets the same vector and texts that share words are
closer (higher cosine) than unrelated ones. `dimensions` / `outputDimensionality` keep the
first N components, renormalised, as Matryoshka-trained models do.

- ``POST /{provider}/v1/embeddings``: OpenAI (`input` string, strings, token ids or lists of
  token ids; `dimensions`; `encoding_format` float or base64 little-endian float32).
- ``POST /{provider}/v1beta/models/{model}:embedContent`` and ``:batchEmbedContents``: Gemini.
"""

from __future__ import annotations

import base64
import math
import random
import re
import struct
from functools import lru_cache
from typing import Any

from simulator.formats.base import ApiError
from simulator.text import count_tokens, seed_from

# Native sizes of well-known embedding models; any other model gets DEFAULT_DIMENSIONS.
DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "gemini-embedding-001": 3072,
    "text-embedding-004": 768,
    "mistral-embed": 1024,
    "bge-m3": 1024,
}
DEFAULT_DIMENSIONS = 1024
WORD_RE = re.compile(r"\w+")


def native_dimensions(model: str) -> int:
    return DIMENSIONS.get(model.rsplit("/", 1)[-1], DEFAULT_DIMENSIONS)


@lru_cache(maxsize=4096)
def _word_vector(word: str, size: int) -> tuple[float, ...]:
    rng = random.Random(seed_from("embedding", word, size))
    return tuple(rng.gauss(0.0, 1.0) for _ in range(size))


def embed(text: str, size: int, keep: int | None = None) -> list[float]:
    words = WORD_RE.findall(text.lower()) or [text]
    total = [0.0] * size
    for word in words:
        for i, value in enumerate(_word_vector(word, size)):
            total[i] += value
    vector = total[: keep or size]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 8) for v in vector]


def to_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param)


def _texts(value: Any) -> list[str]:
    """OpenAI `input`: a string, strings, token ids or lists of token ids."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _bad("'$.input' is invalid. Please check the API reference: "
                   "https://platform.openai.com/docs/api-reference.", "input")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        value = [value]
    texts = []
    for item in value:
        if isinstance(item, str) and item:
            texts.append(item)
        elif isinstance(item, list) and item and all(isinstance(t, int) for t in item):
            texts.append(" ".join(f"t{t}" for t in item))
        else:
            raise _bad("'$.input' is invalid: every input must be a non-empty string or a "
                       "non-empty array of token ids.", "input")
    return texts


def openai_response(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("you must provide a model parameter", "model")
    texts = _texts(body.get("input"))
    size = native_dimensions(model)
    keep = body.get("dimensions")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool)
                             or not 1 <= keep <= size):
        raise _bad(f"'dimensions' must be between 1 and {size} for {model}", "dimensions")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise _bad("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    data = []
    for index, text in enumerate(texts):
        vector = embed(text, size, keep)
        data.append({"object": "embedding", "index": index,
                     "embedding": to_base64(vector) if fmt == "base64" else vector})
    tokens = sum(count_tokens(t) for t in texts)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _gemini_one(request: Any, model: str) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("content"), dict):
        raise _bad("* EmbedContentRequest.content: content is not specified\n")
    parts = request["content"].get("parts") or []
    text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
    if not text:
        raise _bad("* EmbedContentRequest.content.parts: text must not be empty\n")
    size = native_dimensions(model)
    keep = request.get("outputDimensionality")
    if keep is not None and (not isinstance(keep, int) or not 1 <= keep <= size):
        raise _bad(f"* outputDimensionality must be between 1 and {size}\n")
    return {"values": embed(text, size, keep)}


def gemini_response(body: dict[str, Any], model: str, batch: bool) -> dict[str, Any]:
    if not batch:
        return {"embedding": _gemini_one(body, model)}
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise _bad("* BatchEmbedContentsRequest.requests: requests is not specified\n")
    return {"embeddings": [_gemini_one(r, model) for r in requests]}
