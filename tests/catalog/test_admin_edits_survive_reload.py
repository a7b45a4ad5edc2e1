"""`make run` loads the shipped catalog on every start: an operator's admin edit to a shipped
row survives that reload, while a file entry that changed (a new release, an edited file) or
`load_catalog --force` still wins."""

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client

from marketplace.loader import DEFAULT_CATALOG, load_catalog, load_catalog_file
from marketplace.models import Endpoint, EndpointStatus, Provider

LLAMA = "meta-llama/llama-3.3-70b-instruct"
REAL_SERVER = "https://llm.internal.example/v1"


def turbo() -> Endpoint:
    return Endpoint.objects.select_related("model", "provider").get(
        model__model_id=LLAMA, tag="deepinfra/turbo"
    )


def file_entry(data: dict[str, Any], model_id: str, tag: str) -> dict[str, Any]:
    model = next(m for m in data["models"] if m["id"] == model_id)
    return next(e for e in model["endpoints"] if (e.get("tag") or e["provider"]) == tag)


def admin_save(client: Client, obj: models.Model, **changes: Any) -> None:
    """Post the object's admin change form as an operator would: every field as shown, with
    `changes` typed over it."""
    url = f"/admin/marketplace/{obj._meta.model_name}/{obj.pk}/change/"
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for name, form_field in form.fields.items():
        value = form_field.prepare_value(changes.get(name, form[name].value()))
        if value is None or value is False:
            continue  # an unchecked box or an empty optional field is left out of the post
        data[name] = value
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def release_with(shipped: dict[str, Any], **prices: str) -> dict[str, Any]:
    """The shipped file with new prompt prices, as a new release would ship them."""
    data = copy.deepcopy(shipped)
    for tag, price in prices.items():
        file_entry(data, LLAMA, tag.replace("__", "/"))["pricing"]["prompt"] = price
    return data


def snapshot_endpoints(redis_client) -> dict[str, dict[str, Any]]:
    snapshot = json.loads(redis_client.hget("gw:catalog", "data"))
    return {e["tag"]: e for e in snapshot["models"][LLAMA]["endpoints"]}


@pytest.mark.django_db(transaction=True)
def test_admin_edits_survive_a_restart_and_reach_the_snapshot(
    admin_client, redis_client, shipped_catalog, write_catalog, capsys
) -> None:
    call_command("load_catalog")
    admin_save(admin_client, turbo(), price_prompt=Decimal("0.00000009"))
    admin_save(
        admin_client,
        Provider.objects.get(slug="deepinfra"),
        base_url=REAL_SERVER,
        api_key_env="DEEPINFRA_API_KEY",
    )
    capsys.readouterr()

    call_command("load_catalog")  # what `make run` does on its next start

    assert "nothing changed; skipped 19 authors, 333 endpoints, 96 models, 24 providers" in (
        capsys.readouterr().out
    )
    assert turbo().price_prompt == Decimal("0.00000009")
    deepinfra = Provider.objects.get(slug="deepinfra")
    assert (deepinfra.base_url, deepinfra.api_key_env) == (REAL_SERVER, "DEEPINFRA_API_KEY")

    # The next release changes another endpoint's price: that load publishes, and the
    # snapshot the gateway reads carries the new price next to both operator edits.
    before = int(redis_client.hget("gw:catalog", "version"))
    call_command(
        "load_catalog", str(write_catalog(release_with(shipped_catalog, together="0.0000009")))
    )
    assert "updated 1 endpoints" in capsys.readouterr().out
    assert int(redis_client.hget("gw:catalog", "version")) == before + 1
    endpoints = snapshot_endpoints(redis_client)
    assert endpoints["together"]["pricing"]["prompt"] == "0.0000009"
    assert endpoints["deepinfra/turbo"]["pricing"]["prompt"] == "0.00000009"
    assert endpoints["deepinfra/turbo"]["base_url"] == REAL_SERVER
    assert endpoints["deepinfra/turbo"]["api_key_env"] == "DEEPINFRA_API_KEY"
    assert endpoints["deepinfra"]["base_url"] == REAL_SERVER


@pytest.mark.django_db
def test_an_endpoint_disabled_by_hand_stays_disabled(redis_client) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    Endpoint.objects.filter(pk=turbo().pk).update(status=EndpointStatus.DISABLED)

    result = load_catalog_file(DEFAULT_CATALOG)

    assert not result.changed
    assert turbo().status == EndpointStatus.DISABLED


@pytest.mark.django_db
def test_a_changed_file_entry_overrides_the_admin_edit(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    row = turbo()
    row.price_prompt = Decimal("0.00000009")
    row.save()

    result = load_catalog(release_with(shipped_catalog, deepinfra__turbo="0.0000003"))

    assert result.updated == {"endpoints": 1}
    assert turbo().price_prompt == Decimal("0.0000003")


@pytest.mark.django_db
def test_only_the_fields_the_file_changed_are_applied(shipped_catalog) -> None:
    load_catalog(copy.deepcopy(shipped_catalog))
    Provider.objects.filter(slug="deepinfra").update(base_url=REAL_SERVER)
    release = copy.deepcopy(shipped_catalog)
    entry = next(p for p in release["providers"] if p["slug"] == "deepinfra")
    entry["status_page_url"] = "https://status.deepinfra.com/"

    result = load_catalog(release)

    assert result.updated == {"providers": 1}
    deepinfra = Provider.objects.get(slug="deepinfra")
    # The release's new status page is applied; the operator's upstream stays.
    assert deepinfra.status_page_url == "https://status.deepinfra.com/"
    assert deepinfra.base_url == REAL_SERVER


@pytest.mark.django_db
def test_force_re_applies_the_whole_file(redis_client, capsys) -> None:
    shipped_price = turbo_price_in_file()
    call_command("load_catalog")
    Endpoint.objects.filter(pk=turbo().pk).update(price_prompt=Decimal("0.00000009"))
    Provider.objects.filter(slug="deepinfra").update(base_url=REAL_SERVER)
    capsys.readouterr()

    call_command("load_catalog", "--force")

    assert "updated 1 endpoints, 1 providers" in capsys.readouterr().out
    assert turbo().price_prompt == shipped_price
    assert Provider.objects.get(slug="deepinfra").base_url == ""
    # Forcing again finds nothing left to undo.
    assert not load_catalog_file(DEFAULT_CATALOG, force=True).changed


@pytest.mark.django_db
def test_rows_loaded_before_the_upgrade_take_the_file_once(redis_client) -> None:
    """Rows written by the previous loader have no record of the file: the first load
    applies the whole file, as it always did, and edits made afterwards survive."""
    load_catalog_file(DEFAULT_CATALOG)
    Endpoint.objects.update(file_values=None)
    Endpoint.objects.filter(pk=turbo().pk).update(price_prompt=Decimal("0.00000009"))

    assert load_catalog_file(DEFAULT_CATALOG).updated == {"endpoints": 1}
    assert turbo().price_prompt == turbo_price_in_file()

    Endpoint.objects.filter(pk=turbo().pk).update(price_prompt=Decimal("0.00000009"))
    assert not load_catalog_file(DEFAULT_CATALOG).changed
    assert turbo().price_prompt == Decimal("0.00000009")


def turbo_price_in_file() -> Decimal:
    shipped = json.loads(DEFAULT_CATALOG.read_text())
    return Decimal(file_entry(shipped, LLAMA, "deepinfra/turbo")["pricing"]["prompt"])


def test_the_command_help_explains_it(capsys) -> None:
    with pytest.raises(SystemExit):
        call_command("load_catalog", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "Admin edits survive" in text
    assert "--force" in text
