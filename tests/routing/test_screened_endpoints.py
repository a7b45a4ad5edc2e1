"""Endpoints failing the quality probes are left out of the plan altogether while another
endpoint can serve, and kept (last) only when nothing else is left."""

from gateway.stats import View
from tests.routing.test_chooser import THREE, route


def screened(*endpoint_ids: int) -> View:
    view = View()
    view.screened = frozenset(endpoint_ids)
    return view


def test_a_screened_endpoint_is_not_even_a_fallback():
    for seed in range(20):
        assert sorted(route(THREE, {}, screened(1), seed)) == ["beta", "gamma"]


def test_screened_endpoints_serve_when_nothing_else_is_left():
    assert sorted(route(THREE, {}, screened(1, 2, 3))) == ["alpha", "beta", "gamma"]
    assert route(THREE, {"provider": {"only": ["alpha"]}}, screened(1)) == ["alpha"]
