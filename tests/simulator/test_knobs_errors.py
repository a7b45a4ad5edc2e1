"""Knobs: injected 5xx/429/outages in each provider's own error shape, auth, models, control API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.knobs import KnobError, Store
from simulator.testing import run_simulator
from tests.simulator.conftest import ANTHROPIC_HEADERS, Sim

Target = tuple[str, dict[str, Any]]
OPENAI: Target = (
    "/openai/v1/chat/completions",
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
)
ANTHROPIC: Target = (
    "/anthropic/v1/messages",
    {"model": "claude", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]},
)
GEMINI: Target = (
    "/google-vertex/v1beta/models/gemini-2.5-pro:generateContent",
    {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
)


def call(sim: Sim, target: Target, headers: dict[str, str] | None = None) -> httpx.Response:
    path, body = target
    base = ANTHROPIC_HEADERS if path.endswith("/v1/messages") else {}
    return sim.post(path, body, headers=base | (headers or {}))


def test_server_errors_in_each_shape(sim: Sim) -> None:
    sim.knobs("openai", error_rate=1.0, error_statuses=[503])
    r = call(sim, OPENAI)
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "server_error"
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}

    sim.knobs("anthropic", error_rate=1.0)  # default statuses: 529 overloaded or 500 api_error
    seen = {call(sim, ANTHROPIC).status_code for _ in range(20)}
    assert seen == {529, 500}
    sim.knobs("anthropic", error_statuses=[529])
    body = call(sim, ANTHROPIC).json()
    assert body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    sim.knobs("anthropic", error_statuses=[500])
    assert call(sim, ANTHROPIC).json()["error"]["type"] == "api_error"

    sim.knobs("google-vertex", error_rate=1.0, error_statuses=[503])
    r = call(sim, GEMINI)
    assert r.status_code == 503
    assert r.json()["error"]["status"] == "UNAVAILABLE" and r.json()["error"]["code"] == 503
    # other providers are unaffected
    assert call(sim, ("/groq/v1/chat/completions", OPENAI[1])).status_code == 200


def test_rate_limits_carry_retry_after(sim: Sim) -> None:
    for provider in ("openai", "anthropic", "google-vertex"):
        sim.knobs(provider, rate_limit_rate=1.0, retry_after_s=7)
    r = call(sim, OPENAI)
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    r = call(sim, ANTHROPIC)
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json()["error"]["type"] == "rate_limit_error"
    r = call(sim, GEMINI)
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert r.json()["error"]["details"][0]["retryDelay"] == "7s"


def test_fault_dice_are_seeded(sim: Sim) -> None:
    def statuses() -> list[int]:
        return [call(sim, OPENAI).status_code for _ in range(30)]

    sim.knobs("openai", error_rate=0.5, seed=42)
    first = statuses()
    sim.knobs("openai", seed=42)  # re-seeding restarts the sequence
    assert statuses() == first
    assert 200 in first and {500, 503} & set(first)
    sim.knobs("openai", seed=43)
    assert statuses() != first


def test_outages(sim: Sim) -> None:
    now = time.time()
    sim.knobs("anthropic", down_until=now + 60)
    r = call(sim, ANTHROPIC)
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"
    sim.knobs("anthropic", down_until=now - 1)
    assert call(sim, ANTHROPIC).status_code == 200
    sim.knobs("openai", outages=[[now - 5, now + 60]])
    assert call(sim, OPENAI).status_code == 503
    sim.knobs("openai", outages=[[now + 60, now + 120]])
    assert call(sim, OPENAI).status_code == 200
    sim.knobs("google-vertex", down_until=now + 60)
    assert call(sim, GEMINI).json()["error"]["status"] == "UNAVAILABLE"


def test_api_key_knob_checks_each_format_s_header(sim: Sim) -> None:
    for provider in ("openai", "anthropic", "google-vertex"):
        sim.knobs(provider, api_key="sekrit")
    assert call(sim, OPENAI).status_code == 401
    wrong = call(sim, OPENAI, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert call(sim, OPENAI, headers={"authorization": "Bearer sekrit"}).status_code == 200

    r = call(sim, ANTHROPIC, headers={"x-api-key": "nope"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert call(sim, ANTHROPIC, headers={"x-api-key": "sekrit"}).status_code == 200

    assert call(sim, GEMINI).status_code == 403
    assert call(sim, GEMINI, headers={"x-goog-api-key": "nope"}).status_code == 400
    assert call(sim, GEMINI, headers={"x-goog-api-key": "sekrit"}).status_code == 200
    path, body = GEMINI
    assert sim.post(path + "?key=sekrit", body).status_code == 200


def test_models_knob_gives_404(sim: Sim) -> None:
    sim.knobs("openai", models=["gpt-4o-mini"])
    r = call(sim, OPENAI)
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    listing = sim.http.get(sim.url + "/openai/v1/models").json()
    assert [m["id"] for m in listing["data"]] == ["gpt-4o-mini"]
    sim.knobs("anthropic", models=["claude-x"])
    assert call(sim, ANTHROPIC).json()["error"]["type"] == "not_found_error"
    sim.knobs("google-vertex", models=["gemini-flash"])
    assert call(sim, GEMINI).json()["error"]["status"] == "NOT_FOUND"


def test_time_to_first_token(sim: Sim) -> None:
    sim.knobs("openai", ttft_ms=150)
    start = time.monotonic()
    assert call(sim, OPENAI).status_code == 200
    assert time.monotonic() - start >= 0.15


def test_control_api(sim: Sim) -> None:
    knobs = sim.knobs("groq", tokens_per_second=300, ttft_ms=[10, 50])
    assert knobs["tokens_per_second"] == 300 and knobs["ttft_ms"] == [10, 50]
    assert sim.http.get(sim.url + "/_control/providers/groq").json() == knobs
    listing = sim.http.get(sim.url + "/_control/providers").json()
    assert listing["providers"]["groq"]["tokens_per_second"] == 300
    assert listing["defaults"]["tokens_per_second"] != 300

    bad = sim.http.put(sim.url + "/_control/providers/groq", json={"tokens_per_sec": 1})
    assert bad.status_code == 400 and "unknown knob" in bad.json()["error"]
    bad = sim.http.put(sim.url + "/_control/providers/groq", json={"error_rate": 2})
    assert bad.status_code == 400

    reverted = sim.http.delete(sim.url + "/_control/providers/groq").json()
    assert reverted == listing["defaults"]
    sim.knobs("groq", error_rate=1.0)
    assert sim.http.post(sim.url + "/_control/reset").json() == {"status": "ok"}
    assert sim.requests() == []
    assert call(sim, ("/groq/v1/chat/completions", OPENAI[1])).status_code == 200


def test_request_log(sim: Sim) -> None:
    ok = call(sim, OPENAI)
    sim.knobs("anthropic", rate_limit_rate=1.0)
    limited = call(sim, ANTHROPIC)
    rec = sim.record(ok)
    assert rec["provider"] == "openai" and rec["api_format"] == "openai"
    assert rec["model"] == "gpt-4o" and rec["status"] == 200 and not rec["streamed"]
    assert rec["completion_tokens"] == ok.json()["usage"]["completion_tokens"]
    assert rec["prompt_tokens"] == ok.json()["usage"]["prompt_tokens"]
    assert rec["finish_reason"] == "stop" and rec["done"]
    assert not rec["client_disconnected"]
    err = sim.record(limited)
    assert err["status"] == 429 and err["error"] == "rate_limit" and err["model"] == "claude"
    assert [r["id"] for r in sim.requests("openai")] == [rec["id"]]
    assert len(sim.requests()) == 2


def test_config_file_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sim.json"
    path.write_text(
        json.dumps(
            {
                "defaults": {"tokens_per_second": 80},
                "providers": {"groq": {"tokens_per_second": 900}},
            }
        )
    )
    monkeypatch.setenv("SIMULATOR_CONFIG", str(path))
    store = Store.from_env()
    assert store.knobs("groq").tokens_per_second == 900
    assert store.knobs("anyone").tokens_per_second == 80
    store.update("groq", {"error_rate": 0.5})
    store.reset()
    assert store.knobs("groq").error_rate == 0 and store.knobs("groq").tokens_per_second == 900
    with pytest.raises(KnobError):
        Store({"defaults": {"nope": 1}})


def test_run_simulator_with_config() -> None:
    config = {"providers": {"cerebras": {"error_rate": 1.0, "error_statuses": [502]}}}
    with run_simulator(config) as url:
        r = httpx.post(url + "/cerebras/v1/chat/completions", json=OPENAI[1])
        assert r.status_code == 502
        assert httpx.post(url + "/groq/v1/chat/completions", json=OPENAI[1]).status_code == 200


def test_realistic_profile_covers_the_catalog() -> None:
    root = Path(__file__).resolve().parents[2]
    profile = json.loads((root / "simulator/profiles/realistic.json").read_text())
    store = Store(profile)
    catalog_path = root.parent / "shared/data/catalog.json"
    if catalog_path.exists():
        slugs = {p["slug"] for p in json.loads(catalog_path.read_text())["providers"]}
        assert slugs <= set(profile["providers"])
    assert store.knobs("groq").tokens_per_second > store.knobs("deepseek").tokens_per_second
    assert store.knobs("some-new-host").ttft_range() == (300.0, 900.0)
