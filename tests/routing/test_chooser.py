"""The chooser (routing.plan and with_retries) with a seeded random source and a given live
view: every provider-preference field, price weighting, health and the actionable 404."""

import random
from collections import Counter
from typing import Any

import orjson
import pytest

from gateway import routing
from gateway.auth import Account
from gateway.catalog import Snapshot
from gateway.errors import GatewayError
from gateway.request import parse
from gateway.stats import Live, View
from tests.gateway.conftest import endpoint, model

ANYONE = Account("1", True, False, False, frozenset(), frozenset())
M = "acme/m"
OTHER = "acme/other"


def ep(endpoint_id: int, provider: str, price: str, **extra: Any) -> dict[str, Any]:
    # `price` per token for input and output alike, so the blended price is twice it.
    return endpoint("http://sim", endpoint_id, provider, "openai", "m", price, price, **extra)


def catalog(*endpoints: dict[str, Any], other: tuple[dict[str, Any], ...] = ()) -> Snapshot:
    models = {M: model(M, *endpoints)}
    if other:
        models[OTHER] = model(OTHER, *other)
    return Snapshot.parse(1, orjson.dumps({"models": models}))


THREE = catalog(ep(1, "alpha", "0.000001"), ep(2, "beta", "0.000002"), ep(3, "gamma", "0.000003"))


def route(snapshot: Snapshot, body: dict[str, Any], view: View | None = None, seed: int = 0,
          account: Account = ANYONE) -> list[str]:
    body = {"model": M, "messages": [{"role": "user", "content": "hi"}], **body}
    plan = routing.plan(snapshot, parse(orjson.dumps(body)), account, random.Random(seed),
                        view)
    return [e.provider for _, _, endpoints in plan for e in endpoints]


def live(ttft: float | None = None, tps: float | None = None, failing: bool = False) -> Live:
    def flat(v: float | None) -> dict[str, float] | None:
        return None if v is None else {"p50": v, "p75": v, "p90": v, "p99": v}
    return Live(flat(ttft), flat(tps), failing, 10)


def test_price_weighting_picks_the_cheaper_about_nine_times_as_often():
    two = catalog(ep(1, "cheap", "0.000001"), ep(2, "dear", "0.000003"))
    rng = random.Random(42)
    req = parse(orjson.dumps({"model": M, "messages": [{"role": "user", "content": "hi"}]}))
    firsts = Counter(routing.plan(two, req, ANYONE, rng)[0][2][0].provider
                     for _ in range(10_000))
    ratio = firsts["cheap"] / firsts["dear"]
    assert 8.3 < ratio < 9.7, ratio


def test_fallbacks_follow_by_ascending_price():
    assert route(THREE, {}, seed=3)[1:] == sorted(route(THREE, {}, seed=3)[1:])
    assert set(route(THREE, {})) == {"alpha", "beta", "gamma"}


def test_recently_failing_endpoints_go_last_and_are_never_first():
    view = View({1: live(failing=True)})
    for seed in range(50):
        assert route(THREE, {}, view, seed)[-1] == "alpha"


def test_sort_price_throughput_latency_use_the_live_view():
    view = View({1: live(ttft=900, tps=20), 2: live(ttft=100, tps=200), 3: live(ttft=400, tps=90)})
    assert route(THREE, {"provider": {"sort": "price"}}, view) == ["alpha", "beta", "gamma"]
    assert route(THREE, {"provider": {"sort": "throughput"}}, view) == ["beta", "gamma", "alpha"]
    assert route(THREE, {"provider": {"sort": "latency"}}, view) == ["beta", "gamma", "alpha"]
    assert route(THREE, {"provider": {"sort": {"by": "latency", "partition": "model"}}},
                 view) == ["beta", "gamma", "alpha"]


def test_nitro_sorts_by_throughput():
    view = View({1: live(tps=20), 2: live(tps=300), 3: live(tps=90)})
    assert route(THREE, {"model": M + ":nitro"}, view) == ["beta", "gamma", "alpha"]


def test_an_endpoint_without_figures_is_measured_first_under_a_live_sort():
    view = View({1: live(tps=20), 2: live(tps=300)})
    assert route(THREE, {"provider": {"sort": "throughput"}}, view) == ["gamma", "beta", "alpha"]


def test_preferred_min_throughput_deprioritises_without_excluding():
    view = View({1: live(tps=20), 2: live(tps=300), 3: live(tps=90)})
    for seed in range(30):
        order = route(THREE, {"provider": {"preferred_min_throughput": 50}}, view, seed)
        assert order[-1] == "alpha" and set(order) == {"alpha", "beta", "gamma"}
    by_p90 = route(THREE, {"provider": {"preferred_min_throughput": {"p90": 100}}}, view)
    assert by_p90[0] == "beta"


def test_preferred_max_latency_in_seconds_as_number_or_percentiles():
    view = View({1: live(ttft=3000), 2: live(ttft=200), 3: live(ttft=2500)})
    assert route(THREE, {"provider": {"preferred_max_latency": 1}}, view)[0] == "beta"
    order = route(THREE, {"provider": {"preferred_max_latency": {"p99": 2.8}}}, view, seed=1)
    assert order[-1] == "alpha"


def test_partition_none_sorts_across_models():
    snap = catalog(ep(1, "alpha", "0.000001"), ep(2, "beta", "0.000002"),
                   other=(ep(3, "gamma", "0.000003"),))
    view = View({1: live(tps=10), 2: live(tps=50), 3: live(tps=500)})
    body = {"models": [OTHER], "provider": {"sort": {"by": "throughput", "partition": "none"}}}
    req = parse(orjson.dumps({"model": M, "messages": [{"role": "user", "content": "x"}],
                              **body}))
    plan = routing.plan(snap, req, ANYONE, random.Random(0), view)
    assert [(m.id, [e.provider for e in eps]) for m, _, eps in plan] == [
        (OTHER, ["gamma"]), (M, ["beta"]), (M, ["alpha"])]
    by_model = {**body, "provider": {"sort": {"by": "throughput", "partition": "model"}}}
    assert route(snap, by_model, view) == ["beta", "alpha", "gamma"]


def test_order_only_ignore_and_allow_fallbacks():
    assert route(THREE, {"provider": {"order": ["gamma"]}})[0] == "gamma"
    assert route(THREE, {"provider": {"order": ["gamma"], "allow_fallbacks": False}}) == ["gamma"]
    assert route(THREE, {"provider": {"only": ["beta"]}}) == ["beta"]
    assert "beta" not in route(THREE, {"provider": {"ignore": ["beta"]}})


def test_retry_budget_repeats_stable_endpoints_before_failing_ones():
    view = View({3: live(failing=True)})
    req = parse(orjson.dumps({"model": M, "messages": [{"role": "user", "content": "x"}],
                              "provider": {"sort": "price"}}))
    plan = routing.with_retries(routing.plan(THREE, req, ANYONE, random.Random(0), view), view)
    assert [e.provider for e in plan[0][2]] == ["alpha", "beta", "alpha", "beta", "alpha", "gamma"]


def test_retries_with_allow_fallbacks_false_never_leave_the_named_provider():
    req = parse(orjson.dumps({"model": M, "messages": [{"role": "user", "content": "x"}],
                              "provider": {"order": ["gamma"], "allow_fallbacks": False}}))
    plan = routing.with_retries(routing.plan(THREE, req, ANYONE, random.Random(0)))
    assert {e.provider for e in plan[0][2]} == {"gamma"}


def test_the_404_names_each_excluded_endpoint_with_its_filter():
    snap = catalog(
        ep(1, "alpha", "0.00001"),
        ep(2, "beta", "0.000001", quantization="int4", tag="beta/int4"),
        ep(3, "gamma", "0.000001", data_policy={"training": True}),
        ep(4, "delta", "0.000001", context_length=10),
    )
    body = {"messages": [{"role": "user", "content": "tell me more " * 20}],
            "provider": {"max_price": {"prompt": 5}, "quantizations": ["fp8", "unknown"],
                         "data_collection": "deny"}}
    with pytest.raises(GatewayError) as caught:
        route(snap, body)
    err = caught.value
    assert err.status == 404
    meta = err.metadata or {}
    assert meta["availability"]["excluded_by"] == [
        "context_length", "data_policy:training", "max_price", "quantization"]
    assert meta["excluded_endpoints"] == [
        {"tag": "alpha", "filter": "max_price"}, {"tag": "beta/int4", "filter": "quantization"},
        {"tag": "gamma", "filter": "data_policy:training"},
        {"tag": "delta", "filter": "context_length"}]
    assert "beta/int4 by quantization" in err.message
    assert meta["availability"]["code"] == "constraint_filtered"


def test_require_parameters_and_ignored_providers_are_named():
    snap = catalog(ep(1, "alpha", "0.000001", supported_parameters=["max_tokens"]),
                   ep(2, "beta", "0.000001"))
    with pytest.raises(GatewayError) as caught:
        route(snap, {"seed": 3, "provider": {"require_parameters": True, "ignore": ["beta"]}})
    assert (caught.value.metadata or {})["excluded_endpoints"] == [
        {"tag": "alpha", "filter": "require_parameters"},
        {"tag": "beta", "filter": "ignored_providers"}]


@pytest.mark.parametrize("provider", [
    {"sort": "fastest"}, {"sort": {"by": "latency", "partition": "all"}},
    {"preferred_min_throughput": "fast"}, {"preferred_max_latency": {"p42": 1}},
])
def test_malformed_preferences_are_a_400(provider: dict[str, Any]):
    with pytest.raises(GatewayError) as caught:
        route(THREE, {"provider": provider})
    assert caught.value.status == 400
