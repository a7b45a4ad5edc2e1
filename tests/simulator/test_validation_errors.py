"""Malformed requests are refused the way each real API refuses them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.conftest import ANTHROPIC_HEADERS, Sim

OPENAI = "/openai/v1/chat/completions"
ANTHROPIC = "/anthropic/v1/messages"
GEMINI = "/google-ai-studio/v1beta/models/gemini-2.5-pro:generateContent"
USER = {"role": "user", "content": "hi"}


def openai_error(sim: Sim, body: Any, path: str = OPENAI) -> dict[str, Any]:
    r = sim.post(path, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    return error


def anthropic_error(sim: Sim, body: Any, headers: dict[str, str] | None = None) -> str:
    r = sim.post(ANTHROPIC, body, headers=ANTHROPIC_HEADERS if headers is None else headers)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    message: str = body["error"]["message"]
    return message


def gemini_error(sim: Sim, body: Any) -> str:
    r = sim.post(GEMINI, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    message: str = error["message"]
    return message


# -- OpenAI -------------------------------------------------------------------------------


def test_openai_invalid_json(sim: Sim) -> None:
    assert "could not parse the JSON body" in openai_error(sim, b"{not json")["message"]


def test_openai_missing_and_empty_messages(sim: Sim) -> None:
    missing = openai_error(sim, {"model": "gpt-4o"})
    assert missing["param"] == "messages" and missing["code"] == "missing_required_parameter"
    empty = openai_error(sim, {"model": "gpt-4o", "messages": []})
    assert empty["code"] == "empty_array"
    assert "must provide a model" in openai_error(sim, {"messages": [USER]})["message"]


def test_openai_unknown_parameter_strict_for_openai_lenient_for_hosts(sim: Sim) -> None:
    body = {"model": "m", "messages": [USER], "top_k": 5}
    error = openai_error(sim, body)
    assert error["message"] == "Unrecognized request argument supplied: top_k"
    # vLLM-style hosts accept sampler extras, but not arbitrary names
    assert sim.post("/deepinfra/v1/chat/completions", body).status_code == 200
    openai_error(sim, {**body, "bogus": 1}, "/deepinfra/v1/chat/completions")
    sim.knobs("deepinfra", strict_params=True)
    openai_error(sim, body, "/deepinfra/v1/chat/completions")


def test_openai_bad_role(sim: Sim) -> None:
    error = openai_error(sim, {"model": "m", "messages": [{"role": "bot", "content": "x"}]})
    assert error["param"] == "messages[0].role" and error["code"] == "invalid_value"


def test_openai_tool_message_without_matching_call(sim: Sim) -> None:
    orphan = openai_error(
        sim,
        {
            "model": "m",
            "messages": [USER, {"role": "tool", "tool_call_id": "call_1", "content": "x"}],
        },
    )
    assert "must be a response to a preceeding message with 'tool_calls'" in orphan["message"]
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    wrong_id = openai_error(
        sim,
        {
            "model": "m",
            "messages": [
                USER,
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_2", "content": "x"},
            ],
        },
    )
    assert "call_2" in wrong_id["message"]
    unanswered = openai_error(
        sim,
        {
            "model": "m",
            "messages": [USER, {"role": "assistant", "content": None, "tool_calls": [call]}, USER],
        },
    )
    assert "did not have response messages: call_1" in unanswered["message"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
    ],
)
def test_openai_parameter_errors(sim: Sim, extra: dict[str, Any], param: str) -> None:
    assert openai_error(sim, {"model": "m", "messages": [USER], **extra})["param"] == param


def test_openai_json_object_needs_the_word_json(sim: Sim) -> None:
    error = openai_error(
        sim, {"model": "m", "messages": [USER], "response_format": {"type": "json_object"}}
    )
    assert "must contain the word 'json'" in error["message"]


# -- Anthropic ----------------------------------------------------------------------------

MSG = {"model": "claude", "max_tokens": 100, "messages": [USER]}


def test_anthropic_requires_version_header(sim: Sim) -> None:
    assert "anthropic-version" in anthropic_error(sim, MSG, headers={})


def test_anthropic_requires_max_tokens_and_messages(sim: Sim) -> None:
    assert anthropic_error(sim, {"model": "c", "messages": [USER]}) == "max_tokens: Field required"
    assert "messages" in anthropic_error(sim, {**MSG, "messages": []})
    assert anthropic_error(sim, {"model": "c", "max_tokens": 5}) == "messages: Field required"


def test_anthropic_system_role_is_rejected(sim: Sim) -> None:
    message = anthropic_error(
        sim, {**MSG, "messages": [{"role": "system", "content": "be nice"}, USER]}
    )
    assert "top-level `system` parameter" in message


def test_anthropic_extra_fields_and_empty_content(sim: Sim) -> None:
    assert anthropic_error(sim, {**MSG, "n": 2}) == "n: Extra inputs are not permitted"
    assert "non-empty content" in anthropic_error(
        sim, {**MSG, "messages": [{"role": "user", "content": ""}]}
    )


def test_anthropic_tool_result_without_tool_use(sim: Sim) -> None:
    message = anthropic_error(
        sim,
        {
            **MSG,
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "42"}],
                }
            ],
        },
    )
    assert "unexpected `tool_use_id` found in `tool_result` blocks: toolu_x" in message
    use = {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {}}
    missing = anthropic_error(
        sim, {**MSG, "messages": [USER, {"role": "assistant", "content": [use]}, USER]}
    )
    assert "`tool_use` ids were found without `tool_result` blocks" in missing


def test_anthropic_temperature_range(sim: Sim) -> None:
    assert "temperature" in anthropic_error(sim, {**MSG, "temperature": 1.5})


# -- Gemini -------------------------------------------------------------------------------

CONTENTS = [{"role": "user", "parts": [{"text": "hi"}]}]


def test_gemini_invalid_json_and_unknown_fields(sim: Sim) -> None:
    assert "Invalid JSON payload" in gemini_error(sim, b"{nope")
    message = gemini_error(sim, {"contents": CONTENTS, "messages": []})
    assert message == 'Invalid JSON payload received. Unknown name "messages": Cannot find field.'
    nested = gemini_error(sim, {"contents": CONTENTS, "generationConfig": {"max_tokens": 5}})
    assert "Unknown name \"max_tokens\" at 'generation_config'" in nested
    in_part = gemini_error(sim, {"contents": [{"role": "user", "parts": [{"txt": "x"}]}]})
    assert "at 'contents[0].parts[0]'" in in_part


def test_gemini_roles_and_empty_contents(sim: Sim) -> None:
    assert "contents is not specified" in gemini_error(sim, {"contents": []})
    assistant = [{"role": "assistant", "parts": [{"text": "x"}]}]
    assert gemini_error(sim, {"contents": assistant}) == "Please use a valid role: user, model."
    no_parts = gemini_error(sim, {"contents": [{"role": "user", "parts": []}]})
    assert "parts must not be empty" in no_parts


def test_gemini_function_response_must_follow_call(sim: Sim) -> None:
    response = {"functionResponse": {"name": "f", "response": {"x": 1}}}
    message = gemini_error(sim, {"contents": [*CONTENTS, {"role": "user", "parts": [response]}]})
    assert "function response turn comes immediately after a function call turn" in message


def test_gemini_schema_needs_json_mime_type(sim: Sim) -> None:
    config = {"responseSchema": {"type": "OBJECT"}}
    assert "response_mime_type" in gemini_error(
        sim, {"contents": CONTENTS, "generationConfig": config}
    )


def test_unknown_routes_and_methods(sim: Sim) -> None:
    assert sim.http.get(sim.url + "/openai/v1/chat/completions").status_code == 405
    assert sim.post("/openai/v2/everything", {}).status_code == 404
    assert sim.http.get(sim.url + "/healthz").json() == {"status": "ok"}
