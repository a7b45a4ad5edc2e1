
"""Server-rendered catalog pages: content, linkable filter URLs, 404s, and no SQL per request
once the catalog is cached (no N+1 whatever the page shows)."""

import re

import pytest

pytestmark = pytest.mark.usefixtures("loaded")


def test_home_shows_trending_and_newest_models(client) -> None:
    html = client.get("/").content.decode()
    assert "Trending models" in html and "Newest models" in html and "Top apps" in html
    assert 'href="/anthropic/claude-opus-4.7"' in html  # the newest model
    assert "No usage yet" in html  # trending comes from usage only, none here


def test_model_browser_filters_through_the_query_string(client) -> None:
    html = client.get("/models?supported_parameters=reasoning&max_price=0.5").content.decode()
    assert 'value="reasoning" checked' in html
    assert 'name="max_price"' in html and 'value="0.5"' in html
    assert "deepseek/deepseek-r1" in html or "openai/gpt-oss-120b" in html
    assert "openai/gpt-4o<" not in html  # no reasoning parameter


def test_model_browser_htmx_request_gets_only_the_results(client) -> None:
    partial = client.get("/models?free=1", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="results"')
    assert "4 models" in partial and "<html" not in partial


def test_model_browser_explains_a_bad_filter(client) -> None:
    response = client.get("/models?max_price=lots")
    assert response.status_code == 200
    assert "&#x27;max_price&#x27; must be a number" in response.content.decode()


def test_model_browser_paginates(client) -> None:
    first = client.get("/models").content.decode()
    pages = re.search(r"page 1 of (\d+)", first)
    assert pages and int(pages.group(1)) > 1 and "page=2" in first
    last = pages.group(1)
    assert f"page {last} of {last}" in client.get(f"/models?page={last}").content.decode()


def test_model_page(client) -> None:
    html = client.get("/meta-llama/llama-3.3-70b-instruct").content.decode()
    assert "Meta: Llama 3.3 70B Instruct" in html
    assert html.count('<tr data-tag="') == 13
    assert "deepinfra/turbo" in html
    assert '"model": "meta-llama/llama-3.3-70b-instruct"' in html  # curl sample
    assert 'model="meta-llama/llama-3.3-70b-instruct"' in html  # Python sample
    assert "http://localhost:8000/api/v1" in html
    assert 'id="usage-chart"' in html


def test_free_variant_page_shows_only_free_endpoints(client) -> None:
    html = client.get("/meta-llama/llama-3.1-8b-instruct:free").content.decode()
    assert html.count('<tr data-tag="') == 1
    assert '"model": "meta-llama/llama-3.1-8b-instruct:free"' in html


def test_unknown_pages_are_404(client) -> None:
    assert client.get("/nobody/nothing").status_code == 404
    assert client.get("/providers/nobody").status_code == 404


def test_provider_directory_and_page(client) -> None:
    html = client.get("/providers").content.decode()
    assert html.count('href="/providers/') == 24
    assert "No training, retains prompts 30 days" in html  # OpenAI's policy
    page = client.get("/providers/groq").content.decode()
    assert "Groq" in page and "openai/gpt-oss-120b" in page


def test_compare_two_to_four_models(client) -> None:
    html = client.get("/compare?models=openai/gpt-4o&models=anthropic/claude-sonnet-4").content
    html = html.decode()
    assert "OpenAI: GPT-4o" in html and "Anthropic: Claude Sonnet 4" in html
    assert html.count('<th scope="row"') > 8
    # Unknown ids and a fifth model are dropped by a redirect to the normalised URL.
    response = client.get("/compare?models=openai/gpt-4o,nobody/x")
    assert response.status_code == 302 and response["Location"] == "/compare?models=openai/gpt-4o"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/models",
        "/models?supported_parameters=tools&sort=pricing-low-to-high",
        "/meta-llama/llama-3.3-70b-instruct",
        "/providers",
        "/providers/deepinfra",
        "/compare?models=openai/gpt-4o&models=meta-llama/llama-3.3-70b-instruct",
    ],
)
def test_pages_run_no_sql_once_the_catalog_is_cached(client, url, django_assert_num_queries):
    client.get("/api/v1/models")
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
