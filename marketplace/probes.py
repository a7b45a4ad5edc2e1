"""Quality screening: every endpoint answers a few fixed probes now and then; one that fails
is pulled out of the routing lane (tried only when nothing else is left) until it passes again.

The probes go straight to each endpoint with the gateway's own adapters, built from the
published catalog snapshot, so they test exactly what the router would send:
- `known_answer`: "What is 17 + 25?" must be answered 42;
- `json_schema`: a `response_format` json_schema answer must parse and carry `answer`
  (endpoints that support `response_format`);
- `tool_call`: with a required tool, the call's arguments must be a JSON object (endpoints
  that support `tools`).

Results go to Redis (`gw:probes`: endpoint id -> JSON result; `gw:probes:failing`: the set the
router reads with its live statistics). Celery beat runs `run_all` every ten minutes.
"""

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import orjson

from config.gateway_state import CATALOG, PROBES, PROBES_FAILING
from config.redis import get_redis
from gateway.catalog import Endpoint, Snapshot
from gateway.providers import ADAPTERS
from gateway.upstream import api_key

log = logging.getLogger(__name__)

CONCURRENCY = 16
TIMEOUT_S = 30.0
QUESTION = [{"role": "user", "content": "What is 17 + 25? Reply with the number only."}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "probe", "strict": True, "schema": {
    "type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
    "additionalProperties": False}}}
TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def _probes(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    probes: dict[str, dict[str, Any]] = {"known_answer": {"messages": QUESTION}}
    if "response_format" in endpoint.supported_parameters:
        probes["json_schema"] = {"messages": [{"role": "user", "content": "Answer in JSON."}],
                                 "response_format": SCHEMA}
    if "tools" in endpoint.supported_parameters:
        probes["tool_call"] = {"messages": [{"role": "user", "content": "Weather in Paris?"}],
                               "tools": [TOOL], "tool_choice": "required"}
    return probes


def _passes(name: str, message: dict[str, Any]) -> bool:
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    if name == "known_answer":
        return re.fullmatch(r"\W*42\W*", text.strip()) is not None
    if name == "json_schema":
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        return isinstance(value, dict) and isinstance(value.get("answer"), str)
    calls = message.get("tool_calls") or []
    if not calls:
        return False
    try:
        args = orjson.loads((calls[0].get("function") or {}).get("arguments") or "")
    except orjson.JSONDecodeError:
        return False
    return isinstance(args, dict)


async def _ask(session: aiohttp.ClientSession, endpoint: Endpoint, body: dict[str, Any]
               ) -> dict[str, Any] | None:
    """The answer's message, or None when the endpoint did not answer (not a quality fault:
    availability is the live statistics' business)."""
    adapter = ADAPTERS[endpoint.api_format]
    out = adapter.build({**body, "model": endpoint.model_id}, endpoint, stream=False,
                        max_tokens=256, api_key=api_key(endpoint))
    try:
        async with session.post(out.url, data=out.body, headers=out.headers) as resp:
            if resp.status != 200:
                return None
            data = orjson.loads(await resp.read())
    except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError):
        return None
    message = adapter.parse(data).message
    return message if isinstance(message, dict) else None


async def probe(session: aiohttp.ClientSession, endpoint: Endpoint) -> dict[str, Any]:
    """{"ok", "failed": [probe names], "unanswered": [...], "checked_at"} for one endpoint."""
    failed, unanswered = [], []
    for name, body in _probes(endpoint).items():
        message = await _ask(session, endpoint, body)
        if message is None:
            unanswered.append(name)
        elif not _passes(name, message):
            failed.append(name)
    return {"ok": not failed, "failed": failed, "unanswered": unanswered,
            "checked_at": int(time.time())}


async def _run(endpoints: list[Endpoint]) -> dict[int, dict[str, Any]]:
    limit = asyncio.Semaphore(CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(endpoint: Endpoint) -> tuple[int, dict[str, Any]]:
            async with limit:
                return endpoint.id, await probe(session, endpoint)
        return dict(await asyncio.gather(*(one(e) for e in endpoints)))


def run_all(endpoint_ids: set[int] | None = None) -> dict[int, dict[str, Any]]:
    """Probe every published endpoint (or the given ones) and publish the results."""
    client = get_redis()
    version, data = client.hmget(CATALOG, ["version", "data"])
    if data is None:
        return {}
    snapshot = Snapshot.parse(int(version or 0), data if isinstance(data, bytes) else data.encode())
    endpoints = {e.id: e for m in snapshot.models.values() for e in m.endpoints
                 if endpoint_ids is None or e.id in endpoint_ids}
    # Its own thread: the caller may be inside an event loop already (a test's browser driver).
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, _run(list(endpoints.values()))).result()
    pipe = client.pipeline(transaction=False)
    for endpoint_id, result in results.items():
        pipe.hset(PROBES, str(endpoint_id), orjson.dumps(result))
        if result["ok"]:
            pipe.srem(PROBES_FAILING, endpoint_id)
        else:
            pipe.sadd(PROBES_FAILING, endpoint_id)
            log.warning("endpoint %s (%s) failed quality probes: %s", endpoint_id,
                        endpoints[endpoint_id].tag, ", ".join(result["failed"]))
    pipe.execute()
    return results


LABELS = {"known_answer": "answer", "json_schema": "JSON", "tool_call": "tool call"}


def results(endpoint_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The last probe result of each endpoint that has one, with `failed_labels` for pages."""
    if not endpoint_ids:
        return {}
    raw = get_redis().hmget(PROBES, [str(i) for i in endpoint_ids])
    out = {i: orjson.loads(r) for i, r in zip(endpoint_ids, raw, strict=True) if r}
    for result in out.values():
        result["failed_labels"] = ", ".join(LABELS.get(n, n) for n in result["failed"])
    return out
