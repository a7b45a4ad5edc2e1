"""POST /api/v1/embeddings: routed, reserved, metered and billed like a completion.

The request is routed with a chat-shaped stand-in (its texts as one user message, so the
prompt estimate, context checks and provider preferences apply unchanged), then each endpoint
is asked in its own format: OpenAI-compatible `POST {base}/embeddings` or Gemini
`POST {base}/models/{model}:batchEmbedContents`. Vectors are always requested as floats and
encoded as base64 here when asked, so every provider supports both encodings.
Cost = prompt tokens * the endpoint's prompt price.
"""

import base64
import struct
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from gateway import request as request_mod
from gateway import routing
from gateway.catalog import Endpoint, Snapshot
from gateway.completions import Completions, Generation
from gateway.errors import GatewayError, bad_request
from gateway.pricing import Usage, cost
from gateway.providers.base import error_message
from gateway.request import ChatRequest
from gateway.streaming import estimate_tokens
from gateway.upstream import TIMEOUTS, UpstreamError, api_key, retry_after

JSON = dict[str, Any]
MAX_INPUTS = 2048
EMBEDDINGS = "/api/v1/embeddings"


@dataclass
class EmbeddingRequest:
    body: JSON
    inputs: list[str | list[int]]
    dimensions: int | None
    encoding: str

    def texts(self) -> list[str]:
        return [i if isinstance(i, str) else " ".join(map(str, i)) for i in self.inputs]


def _inputs(value: Any) -> list[str | list[int]]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise bad_request("'input' must be a non-empty string, array of strings or array of "
                          "token ids")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [value]
    if len(value) > MAX_INPUTS:
        raise bad_request(f"'input' may hold at most {MAX_INPUTS} items")
    inputs: list[str | list[int]] = []
    for i, item in enumerate(value):
        tokens = isinstance(item, list) and item and all(
            isinstance(t, int) and not isinstance(t, bool) for t in item)
        if (isinstance(item, str) and item) or tokens:
            inputs.append(item)
        else:
            raise bad_request(f"'input[{i}]' must be a non-empty string or array of token ids")
    return inputs


def parse(raw: bytes) -> tuple[EmbeddingRequest, ChatRequest]:
    body = request_mod.json_object(raw)
    inputs = _inputs(body.get("input"))
    dimensions = body.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or
                                   isinstance(dimensions, bool) or dimensions < 1):
        raise bad_request("'dimensions' must be a positive integer")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise bad_request("'encoding_format' must be 'float' or 'base64'")
    request = EmbeddingRequest(body, inputs, dimensions, encoding)
    stand_in = {k: body[k] for k in ("model", "models", "provider", "user", "session_id")
                if body.get(k) is not None}
    stand_in["messages"] = [{"role": "user", "content": "\n".join(request.texts())}]
    stand_in["max_tokens"] = 1  # nothing is generated: the hold is the prompt's cost
    return request, request_mod.parse(orjson.dumps(stand_in))


def check_embedding_models(snapshot: Snapshot, req: ChatRequest) -> None:
    for requested in req.models:
        model, _ = snapshot.resolve(requested)
        if "embeddings" not in model.output_modalities:
            raise GatewayError(404, f"{requested} is not an embedding model. See GET "
                               "/api/v1/embeddings/models.", {"error_type": "not_found"})


def _outbound(request: EmbeddingRequest, endpoint: Endpoint) -> tuple[str, JSON, dict[str, str]]:
    key = api_key(endpoint)
    headers = {"content-type": "application/json"}
    if endpoint.api_format == "gemini":
        if key:
            headers["x-goog-api-key"] = key
        one: JSON = {"model": f"models/{endpoint.upstream_model}"}
        if request.dimensions:
            one["outputDimensionality"] = request.dimensions
        task = request.body.get("input_type")
        if isinstance(task, str):
            one["taskType"] = {"search_query": "RETRIEVAL_QUERY",
                               "search_document": "RETRIEVAL_DOCUMENT"}.get(task, task.upper())
        body: JSON = {"requests": [{**one, "content": {"parts": [{"text": text}]}}
                             for text in request.texts()]}
        url = f"{endpoint.base_url}/models/{endpoint.upstream_model}:batchEmbedContents"
        return url, body, headers
    if key:
        headers["authorization"] = f"Bearer {key}"
    body = {"model": endpoint.upstream_model, "input": request.inputs,
            "encoding_format": "float"}
    if request.dimensions:
        body["dimensions"] = request.dimensions
    return f"{endpoint.base_url}/embeddings", body, headers


def _vectors(data: JSON, endpoint: Endpoint, request: EmbeddingRequest
             ) -> tuple[list[list[float]], int]:
    """(vectors in input order, prompt tokens) from either format's answer."""
    if endpoint.api_format == "gemini":
        vectors = [e.get("values") or [] for e in data.get("embeddings") or ()]
        tokens = sum(estimate_tokens(t) for t in request.texts())  # Gemini reports none
    else:
        items = sorted(data.get("data") or (), key=lambda d: int(d.get("index") or 0))
        vectors = [d.get("embedding") or [] for d in items]
        usage = data.get("usage") or {}
        tokens = int(usage.get("prompt_tokens") or 0) or sum(
            estimate_tokens(t) for t in request.texts())
    if len(vectors) != len(request.inputs):
        raise UpstreamError(502, f"{endpoint.provider_name}: wrong number of embeddings")
    return vectors, tokens


def encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


class Embeddings:
    def __init__(self, completions: Completions) -> None:
        self.completions = completions

    async def create(self, scope: Any, caller: Any, raw: bytes, snapshot: Snapshot,
                     rng: Any) -> tuple[bytes, str]:
        request, req = parse(raw)
        check_embedding_models(snapshot, req)
        plan = routing.plan(snapshot, req, caller.account, rng)
        engine = self.completions
        gen = engine.start(scope, caller, req)

        async def attempt(gen: Generation, endpoint: Endpoint) -> tuple[list[list[float]], int]:
            url, body, headers = _outbound(request, endpoint)
            try:
                async with engine.session.post(url, data=orjson.dumps(body),
                                               headers=headers) as resp:
                    payload = await resp.read()
                    if resp.status != 200:
                        raise UpstreamError(resp.status, f"{endpoint.provider_name}: "
                                            f"{error_message(payload)}", retry_after(resp.headers))
            except TIMEOUTS:
                raise UpstreamError(504, f"{endpoint.provider_name}: upstream timed out") from None
            except aiohttp.ClientError as exc:
                raise UpstreamError(502, f"{endpoint.provider_name}: "
                                    f"{exc.__class__.__name__}") from None
            try:
                data = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise UpstreamError(502, f"{endpoint.provider_name}: invalid JSON") from None
            return _vectors(data if isinstance(data, dict) else {}, endpoint, request)

        try:
            vectors, tokens = await engine._first_that_answers(gen, plan, attempt, timeout=None)
            endpoint = gen.endpoint
            assert endpoint is not None
            usage = Usage(prompt_tokens=tokens)
            charged = cost(endpoint, usage, prompt_logging=gen.caller.account.prompt_logging)
            gen.api_type = "embeddings"
            event = engine.event(gen, usage, charged, streamed=False, finish="stop",
                                 native=None, upstream_id=None)
            await engine.meter.settle(gen.hold, charged.nanos, gen.id, event)
        finally:
            await engine.settle(gen)
        body = orjson.dumps({
            "id": "embd-" + gen.id.removeprefix("gen-"), "object": "list",
            "model": gen.model_name, "provider": endpoint.provider_name,
            "data": [{"object": "embedding", "index": i,
                      "embedding": encode(v, request.encoding)} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens,
                      "cost": float(charged.total), "is_byok": False},
        })
        return body, gen.id
