"""The virtual models on /api/v1/models and /models: listed with their composition."""

import pytest

pytestmark = pytest.mark.django_db

VIRTUAL = ["openmarket/moa-open", "openmarket/moa-open-lite", "openmarket/moa-critique",
           "openrouter/fusion", "openrouter/auto", "openmarket/auto"]


@pytest.fixture
def loaded(db, redis_client):
    from marketplace.loader import DEFAULT_CATALOG, load_catalog_file

    load_catalog_file(DEFAULT_CATALOG)


def test_api_lists_every_virtual_model_with_its_composition(loaded, client):
    data = {m["id"]: m for m in client.get("/api/v1/models").json()["data"]}
    assert set(VIRTUAL) <= set(data)
    moa = data["openmarket/moa-open"]
    assert moa["composition"] == {
        "kind": "moa", "layers": 3, "critique": False,
        "proposers": ["meta-llama/llama-3.3-70b-instruct", "qwen/qwen-2.5-72b-instruct",
                      "mistralai/mixtral-8x7b-instruct"],
        "aggregator": "qwen/qwen-2.5-72b-instruct"}
    # Priced as the calls it makes per token: 3 proposers x 3 layers + the aggregator.
    llama, qwen, mixtral = (float(data[m]["pricing"]["prompt"]) for m in moa["composition"]
                            ["proposers"])
    assert float(moa["pricing"]["prompt"]) == pytest.approx(3 * (llama + qwen + mixtral) + qwen)
    assert data["openmarket/moa-critique"]["composition"]["critique"] is True
    assert data["openrouter/auto"]["pricing"]["prompt"] == "-1"
    assert data["openrouter/fusion"]["composition"]["kind"] == "fusion"


def test_model_pages_show_the_composition(loaded, client):
    page = client.get("/openmarket/moa-open").content.decode()
    assert "Proposers: meta-llama/llama-3.3-70b-instruct" in page and "3 layers" in page
    listing = client.get("/models?q=mixture").content.decode()
    assert "openmarket/moa-critique" in listing
    auto = client.get("/openrouter/auto").content.decode()
    assert "variable" in auto
