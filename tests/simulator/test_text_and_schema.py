"""The tokenizer, the text generator and the JSON-schema value generator, without HTTP."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest

from simulator import engine
from simulator.schema import generate
from simulator.text import count_tokens, generate_pieces, split_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("   ", 0),
        ("Hello, world!", 4),
        ("internationalization", 3),  # 20 letters: 8 + 8 + 4
        ("a  b\n\nc ", 3),
        ('{"city": "Paris"}', 9),
    ],
)
def test_tokenizer(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens
    assert "".join(split_tokens(text)) == text


def test_generated_pieces_are_one_token_each() -> None:
    for seed in range(50):
        pieces = generate_pieces(random.Random(seed), 200)
        assert len(pieces) == 200
        assert all(count_tokens(p) == 1 for p in pieces)
        assert count_tokens("".join(pieces)) == 200


SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"a": {"type": "string", "minLength": 30, "maxLength": 35}}},
    {"type": "array", "items": {"type": "integer", "minimum": 5, "exclusiveMaximum": 7},
     "minItems": 4, "maxItems": 4},
    {"type": "object", "properties": {"x": {"anyOf": [{"type": "null"}, {"type": "number"}]},
                                      "y": {"type": ["string", "null"], "format": "date-time"},
                                      "z": {"const": "fixed"}},
     "required": ["x", "y", "z"], "additionalProperties": False},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]},
               {"properties": {"b": {"enum": [1, 2, 3]}}, "required": ["b"]}]},
    {"$defs": {"node": {"type": "object", "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["name"]}},
     "$ref": "#/$defs/node"},
    {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2},
    {"type": "object", "minProperties": 3, "additionalProperties": {"type": "integer"}},
    {"type": "string", "format": "email"},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_values_validate(schema: dict[str, Any]) -> None:
    for seed in range(25):
        jsonschema.validate(generate(schema, random.Random(seed)), schema)


def test_gemini_openapi_schema() -> None:
    schema = {
        "type": "OBJECT",
        "nullable": True,
        "properties": {
            "kind": {"type": "STRING", "enum": ["a", "b"]},
            "n": {"type": "INTEGER", "minimum": 3, "maximum": 3},
        },
        "required": ["kind", "n"],
    }
    value = generate(schema, random.Random(0))
    assert value["kind"] in ("a", "b") and value["n"] == 3


def _conv(text: str, **kw: Any) -> engine.Conversation:
    return engine.Conversation(messages=[engine.Message("user", texts=[text])], **kw)


def _plan(conv: engine.Conversation) -> engine.Plan:
    return engine.plan(conv, provider="p", model="m", length=(40, 40))


def test_stop_sequence_spanning_two_tokens() -> None:
    full = _plan(_conv("hello")).text()
    words = full.split(" ")
    stop = words[2][-2:] + " " + words[3][:2]  # crosses the boundary between two tokens
    plan = _plan(_conv("hello", stop=[stop]))
    assert plan.finish == "stop_sequence" and plan.stop_sequence == stop
    assert plan.text() == full[: full.index(stop)]
    # the token that completed the stop sequence was generated, so it is billed
    assert plan.completion_tokens == count_tokens(full[: full.index(stop) + len(stop)])


def test_answer_ignores_limits_and_stream_but_not_content() -> None:
    base = _plan(_conv("hello"))
    assert _plan(_conv("hello", max_tokens=5)).text() == "".join(base.segments[0].pieces[:5])
    assert _plan(_conv("hello!")).text() != base.text()
    assert _plan(_conv("hello", seed=1)).text() != base.text()
