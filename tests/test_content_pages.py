"""Every link of the header leads somewhere: Docs explains the API, Rankings and Apps say
what will appear there."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "heading"),
    [("/docs", "Quickstart"), ("/rankings", "Rankings"), ("/apps", "Apps")],
)
def test_header_pages_answer(client, path: str, heading: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()


@pytest.mark.django_db
def test_docs_show_this_sites_base_url(client, settings) -> None:
    settings.SITE_URL = "https://router.example"
    body = client.get("/docs").content.decode()
    assert "https://router.example/api/v1/chat/completions" in body
    assert 'base_url="https://router.example/api/v1"' in body
