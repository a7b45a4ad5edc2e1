"""Which endpoints serve a request and in which order (routing.plan, no network)."""

import random
from collections import Counter
from typing import Any

import pytest

from gateway.auth import Account
from gateway.catalog import Snapshot
from gateway.errors import GatewayError
from gateway.request import parse
from tests.gateway.conftest import LLAMA, default_models, endpoint, model

ANYONE = Account("1", True, False, False, frozenset(), frozenset())


def snapshot() -> Snapshot:
    models = default_models("http://sim")
    models[LLAMA]["endpoints"].append(endpoint(
        "http://sim", 7, "openai", "openai", "llama", "0.000001", "0.000001",
        service_tier="priority", tag="openai/priority"))
    models["x/trainer"] = model("x/trainer", endpoint(
        "http://sim", 8, "cheap", "openai", "t", "0.0000001", "0.0000001",
        data_policy={"training": True}))
    import orjson
    return Snapshot.parse(1, orjson.dumps({"models": models}))


def route(body: dict[str, Any], account: Account = ANYONE, seed: int = 0) -> list[list[str]]:
    body = {"messages": [{"role": "user", "content": "hi"}], **body}
    import orjson
    plan = __import__("gateway.routing", fromlist=["plan"]).plan(
        snapshot(), parse(orjson.dumps(body)), account, random.Random(seed))
    return [[e.tag for e in endpoints] for _, _, endpoints in plan]


def test_plain_id_never_uses_free_or_tier_endpoints():
    assert sorted(route({"model": LLAMA})[0]) == ["deepinfra", "together"]


def test_free_variant_uses_only_free_endpoints():
    assert route({"model": LLAMA + ":free"}) == [["chutes/free"]]


def test_tier_endpoints_are_opt_in():
    assert "openai/priority" in route({"model": LLAMA, "service_tier": "priority"})[0]
    assert "openai/priority" in route({"model": LLAMA, "provider": {"order":
                                                                    ["openai/priority"]}})[0]


def test_default_order_weights_the_cheaper_endpoint_by_inverse_price_squared():
    firsts = Counter(route({"model": LLAMA}, seed=s)[0][0] for s in range(400))
    # deepinfra blends to 0.42e-6, together to 1.76e-6: about 17.6x more likely first.
    assert firsts["deepinfra"] > 15 * firsts["together"] > 0


def test_sort_order_only_ignore_and_fallbacks():
    assert route({"model": LLAMA, "provider": {"sort": "price"}}) == [["deepinfra", "together"]]
    assert route({"model": LLAMA, "provider": {"order": ["together"]}})[0][0] == "together"
    assert route({"model": LLAMA, "provider": {"order": ["together"],
                                               "allow_fallbacks": False}}) == [["together"]]
    assert route({"model": LLAMA, "provider": {"only": ["together"]}}) == [["together"]]
    assert route({"model": LLAMA, "provider": {"ignore": ["together"]}}) == [["deepinfra"]]


def test_account_settings_filter_providers_and_training():
    allow = Account("1", True, False, False, frozenset({"together"}), frozenset())
    assert route({"model": LLAMA}, allow) == [["together"]]
    deny = Account("1", True, False, True, frozenset(), frozenset())
    with pytest.raises(GatewayError) as caught:
        route({"model": "x/trainer"}, deny)
    assert caught.value.status == 404
    assert "data_policy:training" in caught.value.message


def test_max_tokens_above_the_endpoint_limit_is_404():
    with pytest.raises(GatewayError) as caught:
        route({"model": LLAMA, "max_tokens": 100_000})
    assert caught.value.status == 404


def test_models_list_keeps_its_order():
    assert len(route({"model": LLAMA, "models": ["openai/gpt-4o-mini"]})) == 2
