"""load_catalog: idempotent upsert, --prune disables instead of deleting, small operator files,
and a malformed file is rejected whole with a message naming the bad entry."""

import copy
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.loader import DEFAULT_CATALOG, CatalogError, load_catalog, load_catalog_file
from marketplace.models import Author, Endpoint, EndpointStatus, Model, Provider
from tests.catalog.conftest import tiny_catalog

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Author.objects.count(),
        Provider.objects.count(),
        Model.objects.count(),
        Endpoint.objects.count(),
    )


def test_the_shipped_catalog_loads_completely(shipped_catalog) -> None:
    result = load_catalog_file(DEFAULT_CATALOG)
    assert _counts() == (19, 24, 96, 333)
    assert result.created == {"authors": 19, "providers": 24, "models": 96, "endpoints": 333}
    turbo = Endpoint.objects.get(
        model__model_id="meta-llama/llama-3.3-70b-instruct", tag="deepinfra/turbo"
    )
    assert turbo.provider.slug == "deepinfra"
    llama = next(m for m in shipped_catalog["models"] if m["id"] == turbo.model.model_id)
    listed = next(e for e in llama["endpoints"] if e.get("tag") == "deepinfra/turbo")
    assert turbo.price_prompt == Decimal(listed["pricing"]["prompt"])
    free = Endpoint.objects.filter(variant="free")
    assert free.count() == 4
    assert all(e.price_prompt == 0 and e.price_completion == 0 for e in free)
    assert all(e.data_policy["training"] for e in free)


def test_loading_twice_changes_nothing() -> None:
    load_catalog_file(DEFAULT_CATALOG)
    before = list(Endpoint.objects.order_by("pk").values())
    with CaptureQueriesContext(connection) as queries:
        result = load_catalog_file(DEFAULT_CATALOG)
    assert not result.changed
    assert result.summary() == (
        "nothing changed; skipped 19 authors, 333 endpoints, 96 models, 24 providers"
        " (file entry unchanged since the last load)"
    )
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert list(Endpoint.objects.order_by("pk").values()) == before


def test_a_price_change_updates_only_that_endpoint(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    llama = next(
        m for m in shipped_catalog["models"] if m["id"] == "meta-llama/llama-3.3-70b-instruct"
    )
    together = next(e for e in llama["endpoints"] if e["provider"] == "together")
    together["pricing"]["prompt"] = "0.0000009"
    result = load_catalog(shipped_catalog)
    assert result.updated == {"endpoints": 1}
    row = Endpoint.objects.get(model__model_id=llama["id"], tag="together")
    assert str(row.price_prompt.normalize()) == "9E-7"


def test_prune_disables_missing_entries_and_never_deletes(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    gone_model = shipped_catalog["models"].pop(0)["id"]
    llama = next(
        m for m in shipped_catalog["models"] if m["id"] == "meta-llama/llama-3.3-70b-instruct"
    )
    llama["endpoints"] = [e for e in llama["endpoints"] if e["provider"] != "together"]

    result = load_catalog(shipped_catalog, prune=True)

    assert _counts() == (19, 24, 96, 333)  # nothing deleted: rankings keep their history
    assert not Model.objects.get(model_id=gone_model).enabled
    assert Endpoint.objects.get(model__model_id=llama["id"], tag="together").status == "disabled"
    # The removed model's endpoints are disabled too; everything else stays enabled.
    assert result.disabled["models"] == 1
    assert (
        result.disabled["endpoints"]
        == 1 + Endpoint.objects.filter(model__model_id=gone_model).count()
    )
    assert Endpoint.objects.filter(status=EndpointStatus.ENABLED).count() == (
        333 - result.disabled["endpoints"]
    )


def test_without_prune_a_small_file_adds_one_provider_next_to_the_others(write_catalog) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    result = load_catalog_file(write_catalog(tiny_catalog()))
    assert result.created == {"authors": 1, "providers": 1, "models": 1, "endpoints": 1}
    assert not +result.disabled
    assert _counts() == (20, 25, 97, 334)
    assert Model.objects.filter(enabled=True).count() == 97
    local = Provider.objects.get(slug="local-vllm")
    assert (local.base_url, local.api_key_env) == ("http://127.0.0.1:8080/v1", "LOCAL_VLLM_API_KEY")


def test_a_small_file_may_use_providers_already_in_the_database(write_catalog) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    data = tiny_catalog()
    data["models"][0]["endpoints"][0]["provider"] = "groq"
    del data["providers"]
    load_catalog_file(write_catalog(data))
    assert Endpoint.objects.get(model__model_id="acme/rocket-7b").provider.slug == "groq"


def test_a_re_listed_model_is_enabled_again(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    smaller = copy.deepcopy(shipped_catalog)
    removed = smaller["models"].pop()["id"]
    load_catalog(smaller, prune=True)
    assert not Model.objects.get(model_id=removed).enabled
    load_catalog(shipped_catalog, prune=True)
    assert Model.objects.get(model_id=removed).enabled
    assert Endpoint.objects.filter(status="disabled").count() == 0


def test_a_malformed_file_names_every_bad_entry_and_writes_nothing(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    before = list(Endpoint.objects.order_by("pk").values_list("pk", "price_prompt"))
    broken = copy.deepcopy(shipped_catalog)
    # A valid change first (would be written if loading were not all-or-nothing)...
    broken["models"][0]["endpoints"][0]["pricing"]["prompt"] = "0.001"
    # ...then two bad entries further down.
    broken["models"][5]["endpoints"][1]["pricing"]["completion"] = "cheap"
    broken["models"][7]["endpoints"][0]["provider"] = "nobody"

    with pytest.raises(CatalogError) as error:
        load_catalog(broken)

    message = str(error.value)
    model5, model7 = broken["models"][5]["id"], broken["models"][7]["id"]
    assert "nothing was loaded" in message
    assert f"models[5] ({model5}) endpoints[1]: price 'completion' is not a decimal" in message
    assert f"models[7] ({model7}) endpoints[0]: unknown provider 'nobody'" in message
    assert list(Endpoint.objects.order_by("pk").values_list("pk", "price_prompt")) == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["models"][0].update(id="no-slash"), "'id' must look like 'author/slug'"),
        (lambda d: d["models"][0].pop("context_length"), "'context_length' is required"),
        (lambda d: d["models"][0].update(author="ghost"), "does not match the id's prefix"),
        (lambda d: d["providers"][0].update(api_format="grpc"), "'api_format' must be one of"),
        (lambda d: d["providers"][0].update(base_url="ftp://x"), "'base_url' has an invalid"),
        (
            lambda d: d["models"][0]["endpoints"][0].update(variant="free"),
            "a 'free' variant must be priced 0",
        ),
        (
            lambda d: d["models"][0]["endpoints"].append(d["models"][0]["endpoints"][0]),
            "duplicate endpoint 'local-vllm'",
        ),
        (
            lambda d: d["models"][0]["endpoints"][0]["pricing"].update(prompt=-1),
            "price 'prompt' must be a decimal string",
        ),
    ],
)
def test_each_kind_of_mistake_is_explained(change, expected) -> None:
    data = tiny_catalog()
    change(data)
    with pytest.raises(CatalogError, match=expected):
        load_catalog(data)
    assert _counts() == (0, 0, 0, 0)


def test_the_command_loads_the_shipped_file_by_default(redis_client, capsys) -> None:
    call_command("load_catalog")
    assert "created 19 authors, 333 endpoints, 96 models, 24 providers" in capsys.readouterr().out
    call_command("load_catalog")
    assert "nothing changed" in capsys.readouterr().out
    assert redis_client.hget("gw:catalog", "version")  # a wiped Redis gets a snapshot anyway


def test_the_command_reports_a_bad_file_without_a_traceback(tmp_path) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing\.json: No such file"):
        call_command("load_catalog", str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"models": [')
    with pytest.raises(CommandError, match=r"not valid JSON .* line 1"):
        call_command("load_catalog", str(bad))
