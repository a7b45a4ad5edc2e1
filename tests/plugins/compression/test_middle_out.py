"""Middle-out on its own: what is kept, what goes, and that the result fits."""

from typing import Any

import orjson

from gateway.catalog import Snapshot
from gateway.plugins import compression
from gateway.plugins.compression import middle_out, prompt_tokens
from tests.gateway.conftest import endpoint, model

WORDS = "river stone cloud signal garden market bridge engine forest silver "


def talk(turns: int, words_per_turn: int = 50) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are terse."}]
    for i in range(turns):
        role = "user" if i % 2 == 0 else "assistant"
        messages.append({"role": role, "content": f"turn {i}: " + WORDS * (words_per_turn // 10)})
    messages.append({"role": "user", "content": "And the last question?"})
    return messages


def test_a_prompt_that_fits_is_left_alone() -> None:
    messages = talk(4)
    assert middle_out(messages, prompt_tokens({"messages": messages})) is None


def test_the_middle_goes_first_and_system_and_last_turn_stay() -> None:
    messages = talk(30)
    full = prompt_tokens({"messages": messages})
    out = middle_out(messages, full // 3)
    assert out is not None
    assert out.after <= full // 3 and out.before == full
    assert out.messages[0] == messages[0]
    assert out.messages[-1] == messages[-1]
    kept = [m["content"].split(":")[0] for m in out.messages[1:-1]]
    # Start and end of the talk survive, its centre is gone.
    assert kept[0] == "turn 0" and kept[-1] == "turn 29"
    assert "turn 15" not in kept
    assert out.removed == len(messages) - len(out.messages)
    assert not out.truncated


def test_a_single_huge_message_loses_its_middle() -> None:
    text = "BEGIN " + WORDS * 400 + " END"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    out = middle_out(messages, 500)
    assert out is not None and out.truncated
    assert out.after <= 500
    cut = out.messages[-1]["content"]
    assert cut.startswith("BEGIN") and cut.endswith("END") and "[…]" in cut
    assert messages[1]["content"] == text  # the client's message is not changed in place


def test_tool_results_leave_with_their_call() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages: list[dict[str, Any]] = [{"role": "system", "content": "s"}]
    for i in range(20):
        messages.append({"role": "user", "content": f"q{i} " + WORDS * 5})
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": "c1", "content": WORDS * 5})
    messages.append({"role": "user", "content": "last"})
    out = middle_out(messages, prompt_tokens({"messages": messages}) // 2)
    assert out is not None
    for i, msg in enumerate(out.messages):
        if msg["role"] == "tool":
            assert out.messages[i - 1].get("tool_calls") or out.messages[i - 1]["role"] == "tool"


def snapshot(context: int, output: tuple[str, ...] = ("text",)) -> Snapshot:
    raw = model("acme/small", endpoint("http://sim", 1, "alpha", "openai", "m", "0.000001",
                                       "0.000001", context_length=context))
    raw["output_modalities"] = list(output)
    return Snapshot.parse(1, orjson.dumps({"models": {"acme/small": raw}}))


def test_who_compresses_by_default() -> None:
    small = snapshot(4096).models["acme/small"]
    large = snapshot(32768).models["acme/small"]
    drawing = snapshot(4096, ("image",)).models["acme/small"]
    assert compression.mode({}) == "small"
    assert compression.mode({"transforms": []}) is None
    assert compression.mode({"transforms": ["middle-out"]}) == "all"
    assert compression.mode({"plugins": [{"id": "context-compression"}]}) == "all"
    assert compression.mode({"plugins": [{"id": "context-compression", "enabled": False}]}) \
        is None
    assert compression.applies("small", small, small.endpoints[0])
    assert not compression.applies("small", large, large.endpoints[0])
    assert compression.applies("all", large, large.endpoints[0])
    assert not compression.applies("all", drawing, drawing.endpoints[0])
    # Room for the answer is kept: a quarter of the context, or what the client asked for.
    ep = small.endpoints[0]
    assert compression.budget(ep, None) == int(3072 * compression.MARGIN)
    assert compression.budget(ep, 100) == int(3996 * compression.MARGIN)
    assert not compression.feasible(ep, 4090)
