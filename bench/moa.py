# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""Mixture of agents against single calls, through the gateway, on the simulator with
realistic latency: time to first token, total latency and cost, side by side.

    .venv/bin/python bench/moa.py [--rounds 5] [--tokens 200]

Starts a private Redis (or uses a spare database 15 of REDIS_URL), the simulator in its own
process with per-provider knobs (time to first token 350-900 ms, 45-110 tokens/s), and one
gateway worker. Each round calls, streamed: every proposer alone, then the one-layer mixture
(3 proposers + aggregator), the three-layer mixture and the critique mixture. The published
one-layer design costs about 3x the latency and 3-4x the price of one call; the targets here are
total latency <= 2.2x the slowest proposer's single call and first token <= 1.2x a single
call's (the proposers' tokens stream as reasoning while they run).
"""

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import redis
from openai import OpenAI

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_overhead import free_port, start_gateway, start_redis  # noqa: E402

from gateway import keys as gw_keys  # noqa: E402
from simulator.testing import run_simulator  # noqa: E402

KEY = "sk-or-v1-" + "b" * 64
PROPOSERS = {  # model -> (provider, ttft ms, tokens/s, prompt price, completion price)
    "meta-llama/llama-3.3-70b-instruct": ("deepinfra", [350, 700], 90, "0.00000023", "0.0000004"),
    "qwen/qwen-2.5-72b-instruct": ("novita", [450, 900], 45, "0.00000036", "0.0000004"),
    "mistralai/mixtral-8x7b-instruct": ("fireworks", [400, 800], 110, "0.0000004", "0.0000004"),
}
CLAUDE = ("anthropic/claude-sonnet-4.5", "anthropic", [500, 900], 70, "0.000003", "0.000015")
MIXTURES = ["openmarket/moa-open-lite", "openmarket/moa-open", "openmarket/moa-critique"]


def simulator_config() -> dict[str, Any]:
    providers = {p: {"ttft_ms": ttft, "tokens_per_second": tps}
                 for p, ttft, tps, _, _ in PROPOSERS.values()}
    providers[CLAUDE[1]] = {"ttft_ms": CLAUDE[2], "tokens_per_second": CLAUDE[3]}
    return {"providers": providers}


def publish(redis_url: str, sim: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    models = {}
    rows = [(m, *v) for m, v in PROPOSERS.items()] + [CLAUDE]
    for i, (model_id, provider, _, _, prompt, completion) in enumerate(rows, 1):
        fmt = "anthropic" if provider == "anthropic" else "openai"
        models[model_id] = {"id": model_id, "name": model_id, "context_length": 131072,
                            "endpoints": [{
                                "id": i, "provider": provider, "tag": provider,
                                "provider_name": provider.title(), "api_format": fmt,
                                "base_url": f"{sim}/{provider}/v1", "api_key_env": None,
                                "upstream_model": model_id.split("/")[1], "variant": None,
                                "service_tier": None, "context_length": 131072,
                                "max_completion_tokens": 8192, "max_prompt_tokens": None,
                                "pricing": {"prompt": prompt, "completion": completion},
                                "supported_parameters": ["max_tokens", "temperature"],
                                "data_policy": {"training": False}, "can_abort": True}]}
    client.hset(gw_keys.CATALOG, mapping={"version": 1, "data": orjson.dumps(
        {"version": 1, "providers": {}, "models": models})})
    client.hset(gw_keys.key(hashlib.sha256(KEY.encode()).hexdigest()), mapping={
        "key_id": 1, "user_id": 1, "name": "bench", "management": 0, "disabled": 0,
        "limit": "", "limit_reset": "", "expires_at": ""})
    client.hset(gw_keys.account(1), mapping={"active": 1, "credits": 10**15, "spent": 0,
                                             "purchased": 10**15, "allow": "", "ignore": ""})
    client.set(gw_keys.READY, 1)
    client.close()


def one_call(client: OpenAI, model: str, tokens: int) -> tuple[float, float, float]:
    """(seconds to the first streamed token, total seconds, cost in USD) of one request."""
    started = time.perf_counter()
    first = None
    cost = 0.0
    stream = client.chat.completions.create(
        model=model, stream=True, max_tokens=tokens + 50,
        messages=[{"role": "user", "content": f"[sim:tokens={tokens}] Explain how tides work."}])
    for chunk in stream:
        if chunk.choices and first is None:
            delta = chunk.choices[0].delta
            if delta.content or (delta.model_extra or {}).get("reasoning"):
                first = time.perf_counter()
        if chunk.usage is not None:
            cost = float((chunk.usage.model_extra or {}).get("cost") or 0)
    total = time.perf_counter() - started
    return (first or time.perf_counter()) - started, total, cost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            run_simulator(simulator_config(), in_process=False) as sim:
        redis_url, redis_proc = start_redis(Path(tmp))
        publish(redis_url, sim)
        port = free_port()
        gateway = start_gateway(redis_url, port)
        try:
            client = OpenAI(base_url=f"http://127.0.0.1:{port}/api/v1", api_key=KEY,
                            max_retries=0)
            results: dict[str, list[tuple[float, float, float]]] = {}
            for _ in range(args.rounds):
                for model in [*PROPOSERS, CLAUDE[0], *MIXTURES]:
                    results.setdefault(model, []).append(one_call(client, model, args.tokens))
            report(results)
        finally:
            gateway.terminate()
            gateway.wait(timeout=10)
            if redis_proc is not None:
                redis_proc.terminate()


def report(results: dict[str, list[tuple[float, float, float]]]) -> None:
    def median(model: str, i: int) -> float:
        return statistics.median(r[i] for r in results[model])

    singles = list(PROPOSERS)
    slowest = max(singles, key=lambda m: median(m, 1))
    single_ttft = statistics.median(median(m, 0) for m in singles)
    print(f"{'model':<36}{'ttft ms':>9}{'total ms':>10}{'cost $':>12}"
          f"{'ttft x':>8}{'total x':>9}{'cost x':>8}")
    for model in [*singles, CLAUDE[0], *MIXTURES]:
        base = CLAUDE[0] if "critique" in model else slowest
        ttft, total, cost = median(model, 0), median(model, 1), median(model, 2)
        print(f"{model:<36}{ttft * 1000:>9.0f}{total * 1000:>10.0f}{cost:>12.7f}"
              f"{ttft / (median(base, 0) if 'critique' in model else single_ttft):>8.2f}"
              f"{total / median(base, 1):>9.2f}{cost / median(base, 2):>8.2f}")
    lite = "openmarket/moa-open-lite"
    print(f"\nratios of the mixtures: against the slowest proposer ({slowest}) for the open "
          f"mixtures, against one {CLAUDE[0]} call for the critique mixture;\nttft x against "
          "the median single-call time to first token.")
    print(f"one layer, 3 proposers: total {median(lite, 1) / median(slowest, 1):.2f}x the "
          f"slowest single call (target <= 2.2x), first token "
          f"{median(lite, 0) / single_ttft:.2f}x a single call's (target <= 1.2x)")


if __name__ == "__main__":
    main()
