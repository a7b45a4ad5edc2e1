"""An operator finds catalog rows in the Django admin with search and filters, and an edit
there reaches the gateway's snapshot once committed."""

import json
from decimal import Decimal

import pytest

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from marketplace.models import Endpoint


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/admin/marketplace/model/?q=llama+3.3", "meta-llama/llama-3.3-70b-instruct"),
        ("/admin/marketplace/endpoint/?q=deepinfra%2Fturbo", "deepinfra/turbo"),
        ("/admin/marketplace/endpoint/?status__exact=enabled&variant=free", "google-ai-studio"),
        ("/admin/marketplace/provider/?api_format__exact=gemini", "Google AI Studio"),
        ("/admin/marketplace/author/?q=mistral", "Mistral"),
    ],
)
def test_operator_search_and_filters(admin_client, redis_client, url, expected) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_model_change_page_lists_its_endpoints_inline(admin_client, redis_client) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    endpoint = Endpoint.objects.get(
        tag="deepinfra/turbo", model__model_id="meta-llama/llama-3.3-70b-instruct"
    )
    response = admin_client.get(f"/admin/marketplace/model/{endpoint.model.pk}/change/")
    assert response.status_code == 200
    assert response.content.decode().count('name="endpoints-') > 13 * 5


@pytest.mark.django_db(transaction=True)
def test_an_admin_price_edit_is_published(admin_client, redis_client) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    endpoint = Endpoint.objects.select_related("model", "provider").get(
        tag="deepinfra/turbo", model__model_id="meta-llama/llama-3.3-70b-instruct"
    )
    before = int(redis_client.hget("gw:catalog", "version"))
    url = f"/admin/marketplace/endpoint/{endpoint.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        model=endpoint.model.pk,
        provider=endpoint.provider.pk,
        price_prompt="0.00000009",
        supported_parameters=",".join(endpoint.supported_parameters),
        pricing_overrides=json.dumps(endpoint.pricing_overrides),
        data_policy_override="null",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Endpoint.objects.get(pk=endpoint.pk).price_prompt == Decimal("0.00000009")
    version, raw = redis_client.hmget("gw:catalog", ["version", "data"])
    assert int(version) == before + 1
    snapshot = json.loads(raw)
    turbo = next(
        e
        for e in snapshot["models"][endpoint.model.model_id]["endpoints"]
        if e["id"] == endpoint.pk
    )
    assert turbo["pricing"]["prompt"] == "0.00000009"
