"""The settings page stores the account's data policy and hands it to the gateway."""

import pytest

from config import gateway_state
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalog() -> None:
    load_catalog_file(DEFAULT_CATALOG)


def test_privacy_choices_are_saved_and_published(client, ada, catalog, redis_client):
    client.force_login(ada)
    response = client.post(
        "/settings",
        {
            "prompt_logging": "on",
            "deny_training": "on",
            "allow_providers": "OpenAI, anthropic openai",
            "ignore_providers": "deepinfra/turbo",
        },
    )
    assert response.status_code == 302
    account = redis_client.hgetall(gateway_state.account(ada.pk))
    assert account[b"prompt_logging"] == b"1" and account[b"deny_training"] == b"1"
    assert account[b"allow"] == b"openai,anthropic" and account[b"ignore"] == b"deepinfra/turbo"
    page = client.get("/settings").content.decode()
    assert 'value="openai,anthropic"' in page


def test_a_bad_provider_slug_is_explained(client, ada, redis_client):
    client.force_login(ada)
    response = client.post("/settings", {"allow_providers": "openai, <script>"})
    assert response.status_code == 200
    assert "Not a provider slug: &lt;script&gt;" in response.content.decode()
    assert redis_client.hget(gateway_state.account(ada.pk), "allow") == b""


def test_settings_need_a_signed_in_user(client):
    assert client.get("/settings")["Location"].startswith("/accounts/login/")


def test_an_unknown_provider_is_named_instead_of_filtering_everything_out(
    client, ada, catalog, redis_client
):
    client.force_login(ada)
    response = client.post("/settings", {"allow_providers": "openai, opneai"})
    assert response.status_code == 200
    assert "Unknown provider: opneai" in response.content.decode()
    assert redis_client.hget(gateway_state.account(ada.pk), "allow") == b""
