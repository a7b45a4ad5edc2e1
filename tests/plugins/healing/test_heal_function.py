"""Response healing on its own: each kind of malformed JSON models produce is repaired, valid
JSON is left alone, and a stream fed in any pieces gives the same text as the whole."""

import itertools
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.plugins import pipeline_for
from gateway.plugins.healing import Healer, heal
from gateway.request import parse
from simulator.engine import malform
from simulator.knobs import MALFORMED_KINDS

DOC = {"name": "river stone", "tags": ["a", "b"], "n": -1.5, "ok": True, "none": None,
       "nested": {"deep": [1, {"x": "y"}]}}


def streamed(text: str, cuts: list[int]) -> str:
    healer = Healer()
    bounds = sorted({0, len(text), *[c % (len(text) + 1) for c in cuts]})
    out = [healer.feed(text[a:b]) for a, b in itertools.pairwise(bounds)]
    return "".join(out) + healer.finish()


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_simulated_malformation_is_healed(kind: str) -> None:
    text = malform(json.dumps(DOC), kind)
    healed = heal(text)
    assert healed is not None
    value = json.loads(healed)
    if kind == "truncated":
        assert value["name"] == "river stone"  # what arrived is kept, the rest closed
    else:
        assert value == DOC


@pytest.mark.parametrize(("text", "expected"), [
    ('Sure! Here it is: {"a": 1} Anything else?', {"a": 1}),
    ("```json\n[1, 2, 3]\n```", [1, 2, 3]),
    ("{'a': 'it\\'s', 'b': \"x\"}", {"a": "it's", "b": "x"}),
    ("{a: True, b: None, c: False}", {"a": True, "b": None, "c": False}),
    ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
    ('{"a": 1 "b": 2}', {"a": 1, "b": 2}),
    ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),
    ('{"a": "hel', {"a": "hel"}),
    ('{"a": tr', {"a": True}),
    ('{"a": 1, "b', {"a": 1, "b": None}),
    ('{"a": 12.', {"a": 12}),
    ('{"a": [1, 2}', {"a": [1, 2]}),
    ('{"x": "line\nbreak"}', {"x": "line\nbreak"}),
])
def test_repairs(text: str, expected: object) -> None:
    healed = heal(text)
    assert healed is not None and json.loads(healed) == expected


def test_valid_json_and_text_without_json_are_left_alone() -> None:
    assert heal('{"a": [1, 2]}') is None
    assert heal("no JSON at all") is None


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8,
), st.sampled_from(MALFORMED_KINDS), st.lists(st.integers(0, 400), max_size=6))
def test_streamed_healing_equals_whole_healing(value: object, kind: str,
                                               cuts: list[int]) -> None:
    """Whatever pieces a stream arrives in, the deltas add up to the healed whole, and for
    every kind but truncation (and quoting, which changes what quotes inside strings mean)
    the value survives exactly."""
    doc = {"v": value}
    text = malform(json.dumps(doc), kind)
    whole = heal(text)
    pieces = streamed(text, cuts)
    if whole is not None:
        assert pieces == whole
    if kind in ("trailing_text", "code_fence"):
        assert json.loads(pieces) == doc


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=6), max_size=4),
       st.integers(1, 200))
def test_any_prefix_of_an_object_heals_to_json(doc: dict[str, object], cut: int) -> None:
    text = json.dumps(doc)
    prefix = text[: max(1, cut % len(text))]
    healed = heal(prefix)
    assert healed is None or json.loads(healed) is not None or healed == "null"


def test_when_healing_applies() -> None:
    def ids(body: dict[str, object]) -> list[str]:
        body = {"model": "a/b", "messages": [{"role": "user", "content": "hi"}], **body}
        pipeline = pipeline_for(parse(orjson.dumps(body)))
        return [] if pipeline is None else pipeline.ids

    assert "response-healing" in ids({"response_format": {"type": "json_object"}})
    assert "response-healing" in ids(
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})
    assert "response-healing" in ids({"plugins": [{"id": "response-healing"}]})
    assert "response-healing" not in ids({"response_format": {"type": "text"}})
    assert "response-healing" not in ids(
        {"response_format": {"type": "json_object"},
         "plugins": [{"id": "response-healing", "enabled": False}]})
