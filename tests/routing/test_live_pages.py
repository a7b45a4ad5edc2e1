"""Live statistics where people see them: after real traffic through the gateway to the
simulator, the endpoints API carries the figures in the reference's shape, the model page's
providers table and chart show them (Chromium, laptop and phone widths), and provider pages
show a status."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from gateway.app import Gateway
from gateway.config import Settings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import set_knobs
from tests.servers import serve_asgi

LLAMA = "meta-llama/llama-3.3-70b-instruct"
SERVED = ["deepinfra", "together", "fireworks", "novita"]


@pytest.fixture
def traffic(live_server: Any, transactional_db: None, redis_client: Any, sim: str,
            settings: Any) -> Iterator[str]:
    """The shipped catalog served by the simulator, and 40 completions of Llama 3.3 70B spread
    over four providers, one of which fails about half of the time."""
    settings.SIMULATOR_URL = sim
    load_catalog_file(DEFAULT_CATALOG)
    out = io.StringIO()
    call_command("create_api_key", email="ada@example.com", credits="5", stdout=out)
    key = out.getvalue().strip()
    set_knobs(sim, "together", error_rate=0.5, seed=3)
    gateway = Gateway(Settings(redis_url=django_settings.REDIS_URL))
    with serve_asgi(gateway) as url:
        for i in range(40):
            httpx.post(url + "/api/v1/chat/completions", timeout=30,
                       headers={"authorization": f"Bearer {key}"},
                       json={"model": LLAMA, "stream": i % 2 == 0, "max_tokens": 40,
                             "messages": [{"role": "user", "content": f"Say hello {i}"}],
                             "provider": {"only": [SERVED[i % 4]],
                                          "allow_fallbacks": False}})
    # Leaving the block ran the gateway's shutdown, which flushes its statistics.
    yield live_server.url


def test_endpoints_api_carries_live_stats(traffic: str):
    body = httpx.get(f"{traffic}/api/v1/models/{LLAMA}/endpoints").json()
    by_tag = {e["tag"]: e for e in body["data"]["endpoints"]}
    deepinfra = by_tag["deepinfra"]
    assert set(deepinfra["latency_last_30m"]) == {"p50", "p75", "p90", "p99"}
    assert deepinfra["latency_last_30m"]["p50"] <= deepinfra["latency_last_30m"]["p99"]
    assert deepinfra["throughput_last_30m"]["p50"] >= deepinfra["throughput_last_30m"]["p99"]
    assert deepinfra["uptime_last_5m"] == deepinfra["uptime_last_1d"] == 100
    assert 0 < by_tag["together"]["uptime_last_30m"] < 100
    assert deepinfra["status"] == 0 and by_tag["together"]["status"] < 0
    assert by_tag["cerebras"]["latency_last_30m"] is None
    assert by_tag["cerebras"]["uptime_last_1d"] is None


@pytest.mark.browser
def test_model_page_shows_live_figures_and_the_chart(traffic: str, page: Any, tmp_path: Path):
    page.goto(f"{traffic}/{LLAMA}")
    row = page.locator('#providers-table tr[data-tag="deepinfra"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[7].endswith(" ms") and cells[8].endswith(" tok/s") and cells[9] == "100.0%"
    together = page.locator('#providers-table tr[data-tag="together"] td').all_inner_texts()
    assert together[9] != "100.0%" and together[9].endswith("%")
    idle = page.locator('#providers-table tr[data-tag="cerebras"] td').all_inner_texts()
    assert idle[7] == idle[8] == idle[9] == "—"
    page.wait_for_selector("#endpoint-chart .main-svg")
    assert page.locator("#endpoint-chart .scatterlayer .trace").count() >= 8
    page.screenshot(path=str(tmp_path / "model-laptop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#endpoint-chart .main-svg")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=str(tmp_path / "model-phone.png"), full_page=True)


@pytest.mark.browser
def test_provider_page_shows_its_status(traffic: str, page: Any, tmp_path: Path):
    page.goto(f"{traffic}/providers/deepinfra")
    assert page.locator("#provider-status").inner_text().split("\n")[-1].startswith(
        "Operational")
    page.goto(f"{traffic}/providers/together")
    status = page.locator("#provider-status dd").inner_text()
    assert status.startswith(("Degraded", "Major outage")), status
    page.screenshot(path=str(tmp_path / "provider.png"), full_page=True)
    page.goto(f"{traffic}/providers/cerebras")
    assert "No recent traffic" in page.locator("#provider-status").inner_text()


@pytest.mark.browser
def test_provider_page_shows_endpoints_pulled_by_quality_probes(traffic: str, sim: str,
                                                                 page: Any, tmp_path: Path):
    from marketplace import probes
    from marketplace.models import Endpoint

    set_knobs(sim, "deepinfra", degraded_rate=1.0)
    ids = set(Endpoint.objects.filter(provider__slug="deepinfra").values_list("pk", flat=True))
    results = probes.run_all(ids)
    assert results and not any(r["ok"] for r in results.values())
    page.goto(f"{traffic}/providers/deepinfra")
    assert "out of routing" in page.locator("#provider-status").inner_text()
    assert page.locator(".quality .badge-bad").count() == len(ids)
    assert "wrong answer, JSON, tool call" in page.locator(".quality").first.inner_text()
    page.screenshot(path=str(tmp_path / "provider-probes.png"), full_page=True)
    page.screenshot(path=str(tmp_path / "provider-probes-top.png"))
