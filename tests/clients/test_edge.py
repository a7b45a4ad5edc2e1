"""Every client through the one public origin (nginx in front of Django and the gateway):
the Messages, Responses and chat surfaces stream through the edge; unknown API paths answer
JSON errors; browsers get CORS on inference and catalog routes, never on management ones."""

from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import pytest

from tests.clients.conftest import CLAUDE, World
from tests.servers import serve_edge


@pytest.fixture
def edge(world: World, live_server, tmp_path: Path) -> Iterator[str]:
    with serve_edge(live_server.url, world.url, tmp_path / "run") as url:
        yield url


def test_messages_and_responses_stream_through_the_edge(world: World, edge: str):
    client = anthropic.Anthropic(base_url=edge + "/api", api_key=world.key, max_retries=0)
    with client.messages.stream(model=CLAUDE, max_tokens=100,
                                messages=[{"role": "user", "content": "Hi"}]) as stream:
        assert stream.get_final_message().content[0].type == "text"
    openai_client = world.client()
    openai_client.base_url = httpx.URL(edge + "/api/v1/")
    with openai_client.responses.stream(model=CLAUDE, input="Hi",
                                        max_output_tokens=100) as events:
        assert events.get_final_response().output_text
    assert len(world.events()) == 2


@pytest.mark.django_db
def test_unknown_api_paths_are_json_404_and_wrong_methods_405(edge: str):
    for path in ("/api/v1/nope", "/api/v1/chat/complete", "/api/v1/models/x/y/z/w"):
        response = httpx.get(edge + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == 404
    response = httpx.get(edge + "/api/v1/messages")
    assert response.status_code == 405 and response.json()["error"]["code"] == 405
    response = httpx.delete(edge + "/api/v1/models")
    assert response.status_code == 405 and response.json()["error"]["code"] == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/chat/completions", "/api/v1/messages",
                                  "/api/v1/responses", "/api/v1/models"])
def test_cors_preflight_and_headers_for_browsers(world: World, edge: str, path: str):
    preflight = httpx.options(edge + path, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    if path == "/api/v1/models":
        response = httpx.get(edge + path, headers={"Origin": "https://app.example"})
    else:
        response = httpx.post(edge + "/api/v1/chat/completions",
                              headers={"Origin": "https://app.example",
                                       "Authorization": f"Bearer {world.key}"},
                              json={"model": CLAUDE, "max_tokens": 20,
                                    "messages": [{"role": "user", "content": "Hi"}]})
        assert "X-Generation-Id" in response.headers["access-control-expose-headers"]
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.django_db
def test_management_routes_send_no_cors_headers(edge: str):
    response = httpx.get(edge + "/api/v1/keys", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers
