"""response_format json_schema / json_object yields JSON that matches, on every wire format."""

import json

import jsonschema
import pytest

from tests.gateway.conftest import ONE_PER_FORMAT, World

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                   "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_answer_validates(world: World, model: str, stream: bool):
    kwargs = dict(
        model=model, max_tokens=300,
        messages=[{"role": "user", "content": "Describe a person as JSON."}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "strict": True, "schema": SCHEMA}},
    )
    client = world.client()
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        text = client.chat.completions.create(**kwargs).choices[0].message.content
    jsonschema.validate(json.loads(text or ""), SCHEMA)


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_json_object_answer_parses(world: World, model: str):
    completion = world.client().chat.completions.create(
        model=model, max_tokens=300, response_format={"type": "json_object"},
        messages=[{"role": "user", "content": "Reply in json please."}],
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)
