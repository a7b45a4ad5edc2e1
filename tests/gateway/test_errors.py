"""Every failure a client can cause gets the right status and OpenRouter's error shape."""

import httpx
import openai
import pytest

from simulator.testing import set_knobs
from tests.gateway.conftest import (
    OPENAI_MODEL,
    World,
    publish_account,
    publish_key,
)

HELLO = [{"role": "user", "content": "hello"}]


def post(world: World, body: object, key: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key or world.key}"}
    url = world.url + "/api/v1/chat/completions"
    if isinstance(body, bytes):
        return httpx.post(url, content=body, headers=headers, timeout=30)
    return httpx.post(url, json=body, headers=headers, timeout=30)


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "metadata"}
    assert body["error"]["code"] == response.status_code
    return body["error"]


def test_unknown_model_is_400_naming_it_and_pointing_at_the_model_list(world: World):
    with pytest.raises(openai.BadRequestError) as caught:
        world.client().chat.completions.create(model="nobody/nothing", messages=HELLO)
    message = caught.value.body["message"]  # type: ignore[index]
    assert "nobody/nothing" in message and "/api/v1/models" in message


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", {"model": OPENAI_MODEL}, {"model": OPENAI_MODEL, "messages": []},
    {"model": OPENAI_MODEL, "messages": "hi"},
    {"model": OPENAI_MODEL, "messages": [{"role": "wizard", "content": "x"}]},
    {"model": OPENAI_MODEL, "messages": HELLO, "max_tokens": "ten"},
    {"model": OPENAI_MODEL, "messages": HELLO, "temperature": "hot"},
    {"model": OPENAI_MODEL, "messages": HELLO, "stream": "yes"},
    {"messages": HELLO},
])
def test_malformed_bodies_are_400(world: World, body):
    response = post(world, body)
    assert response.status_code == 400
    error_of(response)


def test_missing_or_unknown_key_is_401(world: World):
    with pytest.raises(openai.AuthenticationError):
        world.client(key="sk-or-v1-" + "0" * 64).chat.completions.create(
            model=OPENAI_MODEL, messages=HELLO)
    response = httpx.post(world.url + "/api/v1/chat/completions", json={})
    assert response.status_code == 401
    error_of(response)


def test_disabled_key_is_401(world: World):
    key = publish_key(world.redis, disabled=True)
    assert post(world, {"model": OPENAI_MODEL, "messages": HELLO}, key).status_code == 401


def test_management_key_is_403(world: World):
    key = publish_key(world.redis, management=True)
    with pytest.raises(openai.PermissionDeniedError):
        world.client(key=key).chat.completions.create(model=OPENAI_MODEL, messages=HELLO)


def test_disabled_account_is_403(world: World):
    publish_account(world.redis, user_id=2, active=0)
    key = publish_key(world.redis, user_id=2)
    response = post(world, {"model": OPENAI_MODEL, "messages": HELLO}, key)
    assert response.status_code == 403
    error_of(response)


def test_an_account_that_cannot_pay_is_402(world: World):
    publish_account(world.redis, user_id=3, credits_usd=0.000001)
    key = publish_key(world.redis, user_id=3)
    with pytest.raises(openai.APIStatusError) as caught:
        world.client(key=key).chat.completions.create(
            model=OPENAI_MODEL, messages=HELLO, max_tokens=10_000)
    assert caught.value.status_code == 402
    assert "can only afford" in caught.value.message


def test_a_key_over_its_limit_is_402(world: World):
    key = publish_key(world.redis, limit=1000, limit_reset="daily")  # one micro-dollar
    response = post(world, {"model": OPENAI_MODEL, "messages": HELLO, "max_tokens": 1000}, key)
    assert response.status_code == 402
    assert "limit" in error_of(response)["message"]


def test_no_endpoint_left_after_filters_is_404(world: World):
    with pytest.raises(openai.NotFoundError) as caught:
        world.client().chat.completions.create(
            model=OPENAI_MODEL, messages=HELLO, extra_body={"provider": {"only": ["nobody"]}})
    assert "No endpoints found" in caught.value.message


def test_upstream_rate_limit_everywhere_is_429_with_retry_after(world: World):
    set_knobs(world.sim, "openai", rate_limit_rate=1.0, retry_after_s=7)
    with pytest.raises(openai.RateLimitError) as caught:
        world.client().chat.completions.create(model=OPENAI_MODEL, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"


def test_upstream_overloaded_is_503_with_retry_after(world: World):
    set_knobs(world.sim, "openai", error_rate=1.0, error_statuses=[503])
    response = post(world, {"model": OPENAI_MODEL, "messages": HELLO})
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    error_of(response)


def test_body_too_large_is_413(world: World):
    big = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "x" * 17_000_000}]}
    response = post(world, big)
    assert response.status_code == 413
    error_of(response)


def test_unknown_path_is_404_and_get_is_405(world: World):
    assert httpx.get(world.url + "/api/v1/chat/completions").status_code == 405
    assert httpx.get(world.url + "/nowhere").status_code == 404
