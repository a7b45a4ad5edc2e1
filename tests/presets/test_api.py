# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""GET /api/v1/presets… and POST /presets/<slug>/chat/completions with the openrouter SDK."""

import pytest
from openrouter import OpenRouter, errors

from presets.publish import presets_key
from tests.presets.conftest import save

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, key: str) -> OpenRouter:
    return OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")


def test_create_from_a_chat_body_then_read_it_back(
    catalog_rows, live_server, ada, ada_key, redis_client
):
    client = sdk(live_server, ada_key)
    created = client.presets.create_presets_chat_completions(
        slug="support-bot", model="openai/gpt-4o-mini", temperature=0.2,
        messages=[{"role": "system", "content": "You are a support agent."},
                  {"role": "user", "content": "ignored"}],
    ).data
    assert created.slug == "support-bot" and created.status == "active"
    assert created.designated_version.version == 1
    assert created.designated_version.system_prompt == "You are a support agent."
    assert created.designated_version.config == {"model": "openai/gpt-4o-mini",
                                                 "temperature": 0.2}

    again = client.presets.create_presets_chat_completions(
        slug="support-bot", model="anthropic/claude-haiku-4.5",
        messages=[{"role": "user", "content": "x"}]).data
    assert again.id == created.id and again.designated_version.version == 2

    listed = client.presets.list()
    assert listed.result.total_count == 1
    assert listed.result.data[0].slug == "support-bot"
    got = client.presets.get(slug="support-bot").data
    assert got.designated_version.config["model"] == "anthropic/claude-haiku-4.5"
    versions = client.presets.list_versions(slug="support-bot").result
    assert [v.version for v in versions.data] == [1, 2] and versions.total_count == 2
    first = client.presets.get_version(slug="support-bot", version="1").data
    assert first.config["model"] == "openai/gpt-4o-mini"
    # Published for the gateway: the designated version only.
    record = redis_client.hget(presets_key(ada.pk), "support-bot")
    assert b"claude-haiku-4.5" in record


def test_list_is_newest_first_and_paged(live_server, ada, ada_key):
    for slug in ("one", "two", "three"):
        save(ada, slug, model="openai/gpt-4o-mini")
    page = sdk(live_server, ada_key).presets.list(offset=1, limit=1).result
    assert page.total_count == 3 and [p.slug for p in page.data] == ["two"]


def test_errors_in_openrouters_shape(catalog_rows, live_server, ada_key, client):
    sdk_client = sdk(live_server, ada_key)
    with pytest.raises(errors.NotFoundResponseError):
        sdk_client.presets.get(slug="missing")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {ada_key}"}
    bad = client.post("/api/v1/presets/x/chat/completions", {"model": "nobody/nothing"},
                      content_type="application/json", **auth)
    assert bad.status_code == 400 and "nobody/nothing" in bad.json()["error"]["message"]
    wrong = client.post("/api/v1/presets/x/chat/completions", {"temperature": "hot"},
                        content_type="application/json", **auth)
    assert wrong.status_code == 400 and "temperature" in wrong.json()["error"]["message"]
    assert client.get("/api/v1/presets").status_code == 401
    assert client.get("/api/v1/presets?limit=500", **auth).status_code == 400


def test_another_accounts_presets_are_invisible(live_server, ada, make_key):
    save(ada, "private", model="openai/gpt-4o-mini")
    bob = make_key("bob@example.com")
    client = sdk(live_server, bob)
    assert client.presets.list().result.total_count == 0
    with pytest.raises(errors.NotFoundResponseError):
        client.presets.get(slug="private")
