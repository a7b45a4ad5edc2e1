"""The plugin pipeline through the real gateway: parsing, ordering, hooks, costs.

A plugin defined here (registered for these tests only) shows what every plugin gets: its
`before` runs once per endpoint attempt with the endpoint, its `on_delta` sees each streamed
delta, its `at_end` the answer, and what it charges is in `usage.cost`, the hold and the settle.
"""

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from gateway import plugins
from gateway.plugins import Context, Plugin
from tests.gateway.conftest import NANOS, OPENAI_MODEL, World

PROBE_NANOS = 1_234_567  # $0.001234567


class Probe(Plugin):
    """Prefixes the prompt, charges a fixed amount, marks deltas, annotates the answer."""

    id = "test-probe"
    order = 5

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.attempts: list[int] = []

    def bound(self, ctx: Context) -> tuple[int, int]:
        return 64, PROBE_NANOS

    async def before(self, ctx: Context) -> None:
        assert ctx.endpoint is not None and ctx.model is not None
        self.attempts.append(ctx.endpoint.id)
        ctx.body["messages"] = [{"role": "system", "content": "Be brief."},
                                *ctx.body["messages"]]
        ctx.charge(self.id, PROBE_NANOS)

    def on_delta(self, ctx: Context, delta: dict[str, Any]) -> dict[str, Any] | None:
        if isinstance(delta.get("content"), str):
            delta["content"] = delta["content"].upper()
        return delta

    def at_end(self, ctx: Context, message: dict[str, Any]) -> dict[str, Any] | None:
        note = {"type": "probe", "probe": {"length": len(message.get("content") or "")}}
        if ctx.stream:
            return {"annotations": [note]}
        message["annotations"] = [note]
        return None


@pytest.fixture
def probe() -> Iterator[None]:
    plugins.register(Probe)
    yield
    del plugins.REGISTRY[Probe.id]


def ask(world: World, **extra: Any) -> Any:
    return world.client().chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": "Say something."}],
        max_tokens=12, **extra)


def test_requests_without_plugins_have_no_pipeline() -> None:
    from gateway.request import parse

    assert plugins.pipeline_for(parse(
        b'{"model": "a/b", "messages": [{"role": "user", "content": "hi"}]}')) is None


def test_unknown_plugin_id_is_a_400_naming_it_and_the_known_ones(world: World) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, extra_body={"plugins": [{"id": "web-serch"}]})
    error: Any = caught.value.body
    assert caught.value.status_code == 400
    assert "web-serch" in error["message"]
    assert {"web", "auto-router"} <= set(error["metadata"]["known_plugins"])
    assert world.events() == []


@pytest.mark.parametrize("bad", [{"plugins": "web"}, {"plugins": [{"enabled": True}]},
                                 {"plugins": [{"id": "web", "enabled": "no"}]},
                                 {"transforms": ["middle-in"]}, {"transforms": "middle-out"}])
def test_malformed_plugins_and_transforms_are_400s(world: World, bad: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError):
        ask(world, extra_body=bad)


def test_plugin_hooks_and_cost_non_streamed(world: World, probe: None) -> None:
    answer = ask(world, extra_body={"plugins": [{"id": "test-probe"}]})
    message = answer.choices[0].message
    assert message.content != message.content.upper()  # on_delta is for streams only
    assert [a.model_dump(exclude_none=True) for a in message.annotations] == [
        {"type": "probe", "probe": {"length": len(message.content)}}]
    tokens = answer.usage.prompt_tokens * 150 + answer.usage.completion_tokens * 600
    assert round(answer.usage.cost * NANOS) == tokens + PROBE_NANOS
    # The system message the plugin added reached the model: more prompt tokens than alone.
    plain = ask(world)
    assert answer.usage.prompt_tokens > plain.usage.prompt_tokens
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert event["plugins"] == ["test-probe"]
    assert event["cost_nanos"] == tokens + PROBE_NANOS
    assert event["plugin_costs"] == {"test-probe": "0.001234567"}
    spent = world.account()["spent"]
    assert spent == event["cost_nanos"] + round(plain.usage.cost * NANOS)


def test_plugin_hooks_and_cost_streamed(world: World, probe: None) -> None:
    chunks = list(ask(world, stream=True, extra_body={"plugins": [{"id": "test-probe"}]}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and text == text.upper()
    notes = [a for c in chunks if c.choices
             for a in (c.choices[0].delta.model_extra or {}).get("annotations") or []]
    assert notes == [{"type": "probe", "probe": {"length": len(text)}}]
    usage = chunks[-1].usage
    tokens = usage.prompt_tokens * 150 + usage.completion_tokens * 600
    assert round(usage.cost * NANOS) == tokens + PROBE_NANOS
    assert world.account()["spent"] == tokens + PROBE_NANOS


def test_disabled_plugin_is_skipped(world: World, probe: None) -> None:
    answer = ask(world, extra_body={"plugins": [{"id": "test-probe", "enabled": False}]})
    assert not getattr(answer.choices[0].message, "annotations", None)
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert "plugins" not in event
