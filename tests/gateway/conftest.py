"""A gateway against this worker's Redis and a private simulator, with a tiny catalog.

The helpers publish records exactly as docs/gateway-state.md describes them, the way the
Django side will: the catalog snapshot, an API key and its account.
"""

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.conf import settings
from openai import OpenAI

from gateway import keys as gw_keys
from gateway.app import Gateway
from gateway.config import Settings
from simulator.testing import reset, run_simulator
from tests.servers import serve_asgi

NANOS = 1_000_000_000

# One model per wire format, one open model served by two providers (fallback and price
# routing), and its :free variant.
OPENAI_MODEL = "openai/gpt-4o-mini"
ANTHROPIC_MODEL = "anthropic/claude-3.5-haiku"
GEMINI_MODEL = "google/gemini-2.0-flash"
LLAMA = "meta-llama/llama-3.3-70b-instruct"
ONE_PER_FORMAT = [OPENAI_MODEL, ANTHROPIC_MODEL, GEMINI_MODEL]

PARAMS = ["max_tokens", "temperature", "top_p", "stop", "seed", "tools", "tool_choice",
          "response_format"]


def endpoint(sim: str, endpoint_id: int, provider: str, api_format: str, upstream: str,
             prompt: str, completion: str, **extra: Any) -> dict[str, Any]:
    version = "v1beta" if api_format == "gemini" else "v1"
    return {
        "id": endpoint_id, "provider": provider, "tag": provider,
        "provider_name": provider.title(), "api_format": api_format,
        "base_url": f"{sim}/{provider}/{version}", "api_key_env": None,
        "upstream_model": upstream, "variant": None, "service_tier": None,
        "quantization": None, "status": "enabled", "context_length": 131072,
        "max_completion_tokens": 16384, "max_prompt_tokens": None,
        "pricing": {"prompt": prompt, "completion": completion, "request": "0", "image": "0",
                    "input_cache_read": "0", "input_cache_write": "0"},
        "supported_parameters": PARAMS,
        "data_policy": {"training": False, "retains_prompts": False, "retention_days": None},
        "can_abort": True,
        **extra,
    }


def model(model_id: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
    return {"id": model_id, "name": model_id, "context_length": 131072,
            "input_modalities": ["text", "image"], "output_modalities": ["text"],
            "supported_parameters": PARAMS, "endpoints": list(endpoints)}


def default_models(sim: str) -> dict[str, Any]:
    return {
        OPENAI_MODEL: model(OPENAI_MODEL, endpoint(
            sim, 1, "openai", "openai", "gpt-4o-mini", "0.00000015", "0.0000006")),
        ANTHROPIC_MODEL: model(ANTHROPIC_MODEL, endpoint(
            sim, 2, "anthropic", "anthropic", "claude-3-5-haiku", "0.0000008", "0.000004")),
        GEMINI_MODEL: model(GEMINI_MODEL, endpoint(
            sim, 3, "google-ai-studio", "gemini", "gemini-2.0-flash", "0.0000001",
            "0.0000004")),
        LLAMA: model(
            LLAMA,
            endpoint(sim, 4, "deepinfra", "openai", "llama-3.3-70b", "0.0000001", "0.00000032"),
            endpoint(sim, 5, "together", "openai", "llama-3.3-70b", "0.00000088",
                     "0.00000088"),
            endpoint(sim, 6, "chutes", "openai", "llama-3.3-70b", "0", "0", variant="free",
                     tag="chutes/free"),
        ),
    }


def publish_catalog(client: Any, models: dict[str, Any]) -> int:
    version = int(client.incr(gw_keys.CATALOG_SEQ))
    data = orjson.dumps({"version": version, "providers": {}, "models": models})
    client.hset(gw_keys.CATALOG, mapping={"version": version, "data": data})
    return version


def publish_key(client: Any, user_id: int = 1, *, key_id: int = 10,
                management: bool = False, disabled: bool = False, limit: int | None = None,
                limit_reset: str = "") -> str:
    key = "sk-or-v1-" + secrets.token_hex(32)
    client.hset(gw_keys.key(hashlib.sha256(key.encode()).hexdigest()), mapping={
        "key_id": key_id, "user_id": user_id, "name": "test key",
        "management": int(management), "disabled": int(disabled),
        "limit": "" if limit is None else limit, "limit_reset": limit_reset, "expires_at": "",
    })
    return key


def publish_account(client: Any, user_id: int = 1, *, credits_usd: float = 10.0,
                    **fields: Any) -> None:
    client.hset(gw_keys.account(user_id), mapping={
        "active": 1, "credits": int(credits_usd * NANOS), "purchased": int(credits_usd * NANOS),
        "prompt_logging": 0, "deny_training": 0, "allow": "", "ignore": "", **fields,
    })
    # As the web side does: `spent` comes from the ledger once, then only the gateway adds.
    client.hsetnx(gw_keys.account(user_id), "spent", 0)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def usage_events(client: Any) -> list[dict[str, Any]]:
    return [orjson.loads(fields[b"event"])
            for stream in gw_keys.all_usage_streams() for _, fields in client.xrange(stream)]


def account(client: Any, user_id: int = 1) -> dict[str, int]:
    raw = client.hgetall(gw_keys.account(user_id))
    return {k.decode(): int(v) for k, v in raw.items() if v.lstrip(b"-").isdigit()}


@pytest.fixture(scope="session")
def simulator() -> Iterator[str]:
    with run_simulator() as url:
        yield url


@pytest.fixture
def sim(simulator: str) -> str:
    """The simulator, back to default knobs and an empty request log."""
    reset(simulator)
    return simulator


@dataclass
class World:
    url: str  # the gateway's base URL
    sim: str
    redis: Any  # redis.Redis; Any because its stubs type every reply as a union
    key: str

    def client(self, key: str | None = None, **kwargs: Any) -> Any:
        """The official SDK (typed Any: its TypedDict params reject plain test dicts)."""
        return OpenAI(base_url=self.url + "/api/v1", api_key=key or self.key, max_retries=0,
                      **kwargs)

    def events(self) -> list[dict[str, Any]]:
        return usage_events(self.redis)

    def account(self) -> dict[str, int]:
        return account(self.redis)


def gateway_settings(**overrides: Any) -> Settings:
    return Settings(redis_url=settings.REDIS_URL, **overrides)


@pytest.fixture
def gateway_options() -> dict[str, Any]:
    """Override in a test module to change the gateway's settings."""
    return {}


@pytest.fixture
def world(redis_client: Any, sim: str, gateway_options: dict[str, Any]
          ) -> Iterator[World]:
    """A running gateway, the default catalog, and an account with $10 and one key."""
    with running_world(redis_client, sim, default_models(sim), **gateway_options) as w:
        yield w


@contextmanager
def running_world(redis_client: Any, sim: str, models: dict[str, Any],
                  **gateway_options: Any) -> Iterator[World]:
    """A gateway over `models`, an account with $10 and one key: each folder's `world`."""
    publish_catalog(redis_client, models)
    publish_account(redis_client)
    key = publish_key(redis_client)
    # Served with the HTTP protocol of the Procfile (gateway/server.py).
    with serve_asgi(Gateway(gateway_settings(**gateway_options)),
                    http="gateway.server:HttpProtocol") as url:
        yield World(url, sim, redis_client, key)
