"""Other official clients against the gateway: the `openrouter` SDK (responses.send,
embeddings.generate, models.list_for_user) and LangChain (ChatOpenAI over both APIs with
tools and structured output, OpenAIEmbeddings)."""

import io
from typing import Any

import pytest
from django.core.management import call_command
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openrouter import OpenRouter
from pydantic import BaseModel

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from tests.clients.conftest import CLAUDE, GEMINI, R1, SMALL, World


def test_openrouter_sdk_responses_send(world: World):
    with OpenRouter(api_key=world.key, server_url=world.url + "/api/v1") as client:
        result = client.beta.responses.send(model=CLAUDE, input="Hello", max_output_tokens=500)
        assert result.id.startswith("resp_") and result.status == "completed"
        assert result.output and result.usage is not None and result.usage.output_tokens > 0
        events = list(client.beta.responses.send(model=GEMINI, input="Hello", stream=True,
                                                 max_output_tokens=500,
                                                 reasoning={"effort": "low"}))
        kinds = [e.type for e in events]
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        assert "response.reasoning_summary_text.delta" in kinds


def test_openrouter_sdk_embeddings_generate(world: World):
    with OpenRouter(api_key=world.key, server_url=world.url + "/api/v1") as client:
        result = client.embeddings.generate(model=SMALL, input=["one", "two"])
        data = result.data
        assert len(data) == 2 and len(data[0].embedding) == 1536
        assert result.usage is not None and result.usage.prompt_tokens > 0


@pytest.mark.django_db
def test_openrouter_sdk_models_list_for_user(live_server: Any, redis_client: Any):
    load_catalog_file(DEFAULT_CATALOG)
    out = io.StringIO()
    call_command("create_api_key", email="ada@example.com", stdout=out)
    key = out.getvalue().strip()
    with OpenRouter(api_key=key, server_url=live_server.url + "/api/v1") as client:
        page = client.models.list_for_user(security={"bearer": key}, limit=20)
        assert page is not None
        models = page.result.data
        assert len(models) == 20 and all(m.id and m.pricing for m in models)


def lc(world: World, model: str, **kwargs: Any) -> ChatOpenAI:
    options: dict[str, Any] = {"max_tokens": 300, "max_retries": 0, **kwargs}
    return ChatOpenAI(model=model, base_url=world.url + "/api/v1",
                      api_key=world.key, **options)  # type: ignore[arg-type]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return "7C"


class City(BaseModel):
    name: str
    population: int


@pytest.mark.parametrize("responses_api", [False, True])
def test_langchain_chat_tools_and_structured_output(world: World, responses_api: bool):
    chat = lc(world, CLAUDE, use_responses_api=responses_api)
    assert chat.invoke("Hello").text
    assert "".join(c.text for c in chat.stream("Tell me more"))
    calls = chat.bind_tools([get_weather]).invoke(
        "Weather in Oslo and in Paris? get_weather").tool_calls
    assert [c["name"] for c in calls] == ["get_weather", "get_weather"]
    city = chat.with_structured_output(City).invoke("The biggest city?")
    assert isinstance(city, City)


def test_langchain_reasoning_over_the_responses_api(world: World):
    chat = lc(world, R1, use_responses_api=True, reasoning={"effort": "low"})
    message = chat.invoke("Why?")
    assert message.text and message.usage_metadata
    assert message.usage_metadata["output_token_details"].get("reasoning", 0) > 0


def test_langchain_embeddings(world: World):
    embeddings = OpenAIEmbeddings(model=SMALL, base_url=world.url + "/api/v1",
                                  api_key=world.key,  # type: ignore[arg-type]
                                  check_embedding_ctx_length=False)
    vectors = embeddings.embed_documents(["first text", "second text"])
    assert len(vectors) == 2 and len(vectors[0]) == 1536
    assert embeddings.embed_query("first text") == vectors[0]
