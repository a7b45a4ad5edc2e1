"""Cache-aware stickiness (reference §20): the turns of one conversation stay on the endpoint
that served the previous turn while its prompt cache is warm, so the cached-input discount
applies.

- Only for models where some eligible endpoint prices cached input below its input price, and
  never with an explicit `provider.order`.
- Conversation key: `session_id` (body, else the `x-session-id` header; at most 256
  characters), else `prompt_cache_key`, else a hash of the first system/developer message and
  the first other message. With a session id a conversation sticks from its first success;
  otherwise only once a turn read from the cache (cached tokens > 0).
- The pin lives at `gw:{s<k>}:sticky:<user>:<hash>` (the account's shard) for the provider's
  cache lifetime, renewed by every success; errors never move it. A pinned endpoint that is
  recently failing or fails now is skipped by the normal fallback order.
"""

import hashlib
from typing import Any

import orjson

from gateway import keys
from gateway.catalog import Endpoint, Model
from gateway.redis_client import Redis
from gateway.request import ChatRequest
from gateway.stats import View

# Seconds a provider keeps a prompt prefix cached after its last use.
CACHE_TTL = {"anthropic": 300, "google-vertex": 300, "google-ai-studio": 300,
             "amazon-bedrock": 300, "openai": 600, "azure": 600, "deepseek": 600,
             "x-ai": 600, "moonshotai": 600, "groq": 600}
DEFAULT_TTL = 300
MAX_SESSION_ID = 256

Attempt = tuple[Model, str | None, list[Endpoint]]


def caches(endpoint: Endpoint) -> bool:
    prices = endpoint.pricing
    return 0 < prices.input_cache_read < prices.prompt


def conversation(req: ChatRequest, session_header: str | None) -> tuple[str, bool] | None:
    """(conversation hash, whether it is an explicit session), or None."""
    body = req.body
    session = body.get("session_id")
    if not isinstance(session, str) or not session:
        session = session_header or None
    if session:
        return _digest("s", session[:MAX_SESSION_ID]), True
    cache_key = body.get("prompt_cache_key")
    if isinstance(cache_key, str) and cache_key:
        return _digest("k", cache_key), False
    messages = body.get("messages") or []
    system = next((m for m in messages if m.get("role") in ("system", "developer")), None)
    first = next((m for m in messages if m.get("role") not in ("system", "developer")), None)
    if first is None:
        return None
    return _digest("m", orjson.dumps([system and system.get("content"), first.get("content")])
                   .decode()), False


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


class Stickiness:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def applies(self, req: ChatRequest, plan: list[Attempt]) -> bool:
        return bool(plan) and "order" not in req.provider and any(
            caches(e) for e in plan[0][2])

    def key(self, user_id: str, model_id: str, conversation_hash: str) -> str:
        return keys.sticky(user_id, hashlib.sha256(
            f"{model_id}|{conversation_hash}".encode()).hexdigest()[:32])

    async def pin(self, user_id: str, conversation_hash: str, plan: list[Attempt],
                  view: View) -> list[Attempt]:
        """The plan with the conversation's endpoint first in its model's list, if pinned."""
        model, variant, endpoints = plan[0]
        raw = await self.redis.execute("GET", self.key(user_id, model.id, conversation_hash))
        if raw is None:
            return plan
        pinned = int(raw)
        chosen = next((e for e in endpoints if e.id == pinned), None)
        if chosen is None or pinned in view.failing:
            return plan
        rest = [e for e in endpoints if e.id != pinned]
        return [(model, variant, [chosen, *rest]), *plan[1:]]

    async def remember(self, user_id: str, conversation_hash: str, explicit: bool,
                       model: Model | None, endpoint: Endpoint | None, cached_tokens: int
                       ) -> None:
        """After a success: pin (or renew) the endpoint that served this turn."""
        if model is None or endpoint is None or not caches(endpoint):
            return
        if not explicit and cached_tokens <= 0:
            return
        ttl = CACHE_TTL.get(endpoint.provider, DEFAULT_TTL)
        await self.redis.execute("SET", self.key(user_id, model.id, conversation_hash),
                                 endpoint.id, "EX", ttl)


def as_header(scope: Any) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-session-id":
            text: str = value.decode("latin-1")
            return text
    return None
