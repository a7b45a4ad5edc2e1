"""Two models on one prompt, each streaming into its own column at the same time; stop one,
continue the other, reload and find the conversation still there."""

import io
from typing import Any

import orjson
import pytest
import requests
from django.core.management import call_command

from accounts.models import ApiKey
from accounts.session_keys import SESSION_KEY_NAME
from gateway import keys
from marketplace.models import Provider
from simulator.testing import recent_requests
from tests.playground.conftest import OTHER, PAID, MakeUser, sign_in
from usage.models import Generation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pace(simulator: str, tokens_per_second: int) -> None:
    """Every provider of the catalog answers at this pace (0 = as fast as it can)."""
    for slug in Provider.objects.values_list("slug", flat=True):
        requests.put(f"{simulator}/_control/providers/{slug}",
                     json={"tokens_per_second": tokens_per_second}, timeout=5).raise_for_status()


def column(page: Any, model: str) -> Any:
    return page.locator(f".pg-column[data-model='{model}']")


def test_two_models_stream_at_once_stop_one_continue_reload(
    page: Any, router: str, simulator: str, make_user: MakeUser, tmp_path: Any,
    redis_client: Any,
) -> None:
    make_user()
    pace(simulator, 40)
    sign_in(page, router, then=f"/playground?model={PAID}&model={OTHER}")
    assert page.locator(".pg-column").count() == 2

    page.fill("#pg-input", "Tell me about rivers [sim:tokens=120]")
    page.keyboard.press("Enter")
    # Both answers are growing at the same moment: each column has text, neither has ended.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.pg-column')].every(c =>
              c.querySelector('.pg-assistant .pg-body').textContent.length > 20
              && !c.querySelector('.pg-meta-cost'))"""
    )
    page.screenshot(path=str(tmp_path / "streaming.png"))
    # Stop one; the other runs to its end.
    column(page, PAID).locator(".pg-stop").click()
    column(page, PAID).locator(".pg-stopped").wait_for()
    column(page, OTHER).locator(".pg-meta-cost").wait_for(timeout=15_000)
    assert column(page, PAID).locator(".pg-meta-cost").count() == 0
    meta = column(page, OTHER).locator(".pg-meta").inner_text()
    for label in ("Provider", "Tokens", "Cost", "Latency", "First token", "Throughput"):
        assert label in meta
    assert "120 out" in meta

    # The stopped stream was cut upstream too: it produced fewer tokens than planned.
    [stopped] = [r for r in recent_requests(simulator) if r["planned_tokens"] == 120
                 and r["client_disconnected"]]
    assert stopped["completion_tokens"] < 120

    # Continue with the other model only.
    column(page, PAID).locator(".pg-target-box").uncheck()
    pace(simulator, 0)
    page.fill("#pg-input", "And about stones?")
    page.click("#pg-send")
    column(page, OTHER).locator(".pg-assistant .pg-meta-cost").nth(1).wait_for()
    assert column(page, OTHER).locator(".pg-user").count() == 2
    assert column(page, PAID).locator(".pg-user").count() == 1
    # The second turn carried the first answer as history.
    last = recent_requests(simulator)[-1]
    assert last["prompt_tokens"] > 120
    page.screenshot(path=str(tmp_path / "laptop.png"), full_page=True)
    # Routed, metered and attributed like any call: the app is the playground itself.
    events = [orjson.loads(fields[b"event"]) for stream in keys.all_usage_streams()
              for _, fields in redis_client.xrange(stream)]
    assert len(events) == 3
    assert {e["app_title"] for e in events} == {"Playground"}
    assert {e["http_referer"] for e in events} == {f"{router}/playground"}
    # The meter books them like any call, on the session key of the signed-in user.
    call_command("meter", once=True, stdout=io.StringIO())
    generations = list(Generation.objects.all())
    session_keys = set(ApiKey.objects.filter(name=SESSION_KEY_NAME).values_list("hash", flat=True))
    assert len(generations) == 3 and {g.key_hash for g in generations} <= session_keys
    assert {g.app_title for g in generations} == {"Playground"}
    assert all(g.user_id == ApiKey.objects.get(hash=g.key_hash).user_id for g in generations)
    assert sum(g.cost for g in generations) > 0

    page.reload()
    page.locator(".pg-conv", has_text="Tell me about rivers").wait_for()
    assert column(page, OTHER).locator(".pg-user").count() == 2
    assert "And about stones?" in column(page, OTHER).inner_text()
    assert column(page, PAID).locator(".pg-stopped").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
