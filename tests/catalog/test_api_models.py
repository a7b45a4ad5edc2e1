"""GET /api/v1/models: OpenRouter's shape, free variants as extra entries, query filters,
pagination, cheap polling (ETag / 304) and a cache that follows catalog changes."""

from decimal import Decimal

import pytest

from marketplace.models import Endpoint, EndpointStatus
from marketplace.publish import publish_catalog
from tests.catalog.conftest import assert_matches_schema, response_schema

pytestmark = pytest.mark.usefixtures("loaded")


def _ids(response) -> list[str]:
    return [m["id"] for m in response.json()["data"]]


def test_lists_every_model_in_openrouters_shape(client) -> None:
    response = client.get("/api/v1/models")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, response_schema("/models"))
    assert body["total_count"] == len(body["data"]) == 102  # + 6 virtual
    assert body["links"] == {"next": None}
    llama = next(m for m in body["data"] if m["id"] == "meta-llama/llama-3.3-70b-instruct")
    assert llama["canonical_slug"] == llama["id"]
    assert llama["architecture"]["modality"] == "text->text"
    assert llama["architecture"]["tokenizer"] == "Llama3"
    # Model pricing is the cheapest standard endpoint's, as decimal strings per token.
    cheapest = min(
        Endpoint.objects.filter(model__model_id=llama["id"], variant="", service_tier=""),
        key=lambda e: e.price_prompt + e.price_completion,
    )
    assert Decimal(llama["pricing"]["prompt"]) == cheapest.price_prompt
    assert Decimal(llama["pricing"]["completion"]) == cheapest.price_completion
    assert llama["pricing"]["request"] == "0"
    assert llama["top_provider"] == {
        "context_length": cheapest.context_length,
        "max_completion_tokens": cheapest.max_completion_tokens,
        "is_moderated": False,
    }
    assert llama["links"]["details"] == f"/api/v1/models/{llama['id']}/endpoints"
    assert "tools" in llama["supported_parameters"]


def test_newest_models_come_first(client) -> None:
    created = [m["created"] for m in client.get("/api/v1/models").json()["data"]]
    assert created == sorted(created, reverse=True)


def test_free_variants_are_listed_as_their_own_entries(client) -> None:
    data = {m["id"]: m for m in client.get("/api/v1/models").json()["data"]}
    free = data["meta-llama/llama-3.1-8b-instruct:free"]
    base = data["meta-llama/llama-3.1-8b-instruct"]
    assert free["name"] == base["name"] + " (free)"
    assert free["pricing"]["prompt"] == free["pricing"]["completion"] == "0"
    assert base["pricing"]["prompt"] != "0"
    assert free["links"]["details"].endswith("llama-3.1-8b-instruct:free/endpoints")


def test_filters_by_supported_parameters_and_output_modalities(client) -> None:
    both = client.get("/api/v1/models?supported_parameters=tools,reasoning").json()["data"]
    assert both and all({"tools", "reasoning"} <= set(m["supported_parameters"]) for m in both)
    tools = _ids(client.get("/api/v1/models?supported_parameters=tools"))
    assert set(_ids(client.get("/api/v1/models?supported_parameters=tools,reasoning"))) < set(tools)
    assert sorted(_ids(client.get("/api/v1/models?output_modalities=image"))) == [
        "google/gemini-2.5-flash-image", "openai/gpt-5-image-mini"]
    # "all" adds the 4 embedding models to the 102 chat ones.
    assert client.get("/api/v1/models?output_modalities=all").json()["total_count"] == 106
    embeddings = _ids(client.get("/api/v1/models?output_modalities=embeddings"))
    assert "openai/text-embedding-3-small" in embeddings and len(embeddings) == 4


def test_filters_by_price_context_author_provider_and_text(client) -> None:
    cheap = client.get("/api/v1/models?max_price=0.2").json()["data"]
    assert cheap and all(
        Decimal(m["pricing"]["prompt"]) * 1_000_000 <= Decimal("0.2") for m in cheap
    )
    big = client.get("/api/v1/models?context=1000000").json()["data"]
    assert big and all(m["context_length"] >= 1_000_000 for m in big)
    anthropic = _ids(client.get("/api/v1/models?model_authors=anthropic"))
    assert anthropic and all(i.startswith("anthropic/") for i in anthropic)
    groq = _ids(client.get("/api/v1/models?providers=Groq"))
    assert "openai/gpt-oss-120b" in groq and "openai/gpt-4o" not in groq
    assert _ids(client.get("/api/v1/models?providers=groq")) == groq  # slug works too
    assert _ids(client.get("/api/v1/models?q=meta llama 3.3")) == [
        "meta-llama/llama-3.3-70b-instruct"
    ]
    vision = client.get("/api/v1/models?input_modalities=image,audio").json()["data"]
    assert vision and all(
        {"image", "audio"} <= set(m["architecture"]["input_modalities"]) for m in vision
    )


def test_sorts_by_price(client) -> None:
    data = client.get("/api/v1/models?sort=pricing-low-to-high").json()["data"]
    prompts = [Decimal(m["pricing"]["prompt"]) for m in data]
    assert prompts == sorted(prompts)
    data = client.get("/api/v1/models?sort=context-high-to-low").json()["data"]
    assert [m["context_length"] for m in data] == sorted(
        (m["context_length"] for m in data), reverse=True
    )


def test_paginates_with_a_next_link(client) -> None:
    first = client.get("/api/v1/models?limit=40").json()
    assert len(first["data"]) == 40 and first["total_count"] == 102
    second = client.get(first["links"]["next"]).json()
    third = client.get(second["links"]["next"]).json()
    assert len(third["data"]) == 22 and third["links"]["next"] is None
    ids = [m["id"] for page in (first, second, third) for m in page["data"]]
    assert len(set(ids)) == 102


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "'limit' must be between 1 and 1000"),
        ("limit=abc", "'offset' and 'limit' must be integers"),
        ("offset=-1", "'offset' must be >= 0"),
        ("max_price=cheap", "'max_price' must be a number"),
        ("context=1.5", "'context' must be a whole number"),
        ("sort=random", "'sort' must be one of"),
    ],
)
def test_bad_queries_get_a_400_in_openrouters_error_shape(client, query, message) -> None:
    response = client.get(f"/api/v1/models?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and message in error["message"]


def test_post_is_refused_in_the_error_shape(client) -> None:
    response = client.post("/api/v1/models")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == 405


def test_polling_clients_get_304_until_the_catalog_changes(client) -> None:
    first = client.get("/api/v1/models")
    etag = first["ETag"]
    assert "max-age" in first["Cache-Control"]
    again = client.get("/api/v1/models", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""

    Endpoint.objects.filter(model__model_id="openai/gpt-4o", tag="openai").update(
        price_prompt=Decimal("0.000001")
    )
    publish_catalog()  # what the commit of that change triggers

    changed = client.get("/api/v1/models", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    gpt = next(m for m in changed.json()["data"] if m["id"] == "openai/gpt-4o")
    assert gpt["pricing"]["prompt"] == "0.000001"


def test_a_model_without_enabled_endpoints_disappears(client) -> None:
    Endpoint.objects.filter(model__model_id="openai/gpt-4o").update(
        status=EndpointStatus.DEPRECATED
    )
    publish_catalog()
    assert "openai/gpt-4o" not in _ids(client.get("/api/v1/models"))


def test_cached_answers_run_no_sql(client, django_assert_num_queries) -> None:
    client.get("/api/v1/models")  # builds the in-process catalog
    with django_assert_num_queries(0):
        assert client.get("/api/v1/models").status_code == 200
        assert client.get("/api/v1/models?supported_parameters=tools").status_code == 200


def test_rebuilding_the_cache_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    from marketplace.catalog import build_catalog

    with django_assert_max_num_queries(4):
        catalog = build_catalog("probe")
    assert len(catalog.entries) == 106  # 96 models (4 embedding) + 4 free variants + 6 virtual
