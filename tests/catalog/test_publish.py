"""The gateway's catalog snapshot in Redis (docs/gateway-state.md): its shape, what it leaves
out, atomic versioned swaps, and one publish per committed catalog change."""

import json
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from marketplace.loader import DEFAULT_CATALOG, load_catalog, load_catalog_file
from marketplace.models import Endpoint, EndpointStatus, Model, Provider
from marketplace.publish import publish_catalog
from tests.catalog.conftest import tiny_catalog

pytestmark = pytest.mark.django_db


def _snapshot(redis_client) -> tuple[int, dict]:
    version, data = redis_client.hmget("gw:catalog", ["version", "data"])
    return int(version), json.loads(data)


@override_settings(SIMULATOR_URL="http://127.0.0.1:8003")
def test_snapshot_follows_the_contract(loaded, redis_client) -> None:
    version, snap = _snapshot(redis_client)
    assert snap["version"] == version
    assert snap["providers"]["deepinfra"] == {
        "slug": "deepinfra",
        "name": "DeepInfra",
        "display_name": "DeepInfra",
        "can_abort": True,
    }
    llama = snap["models"]["meta-llama/llama-3.3-70b-instruct"]
    assert llama["input_modalities"] == ["text"]
    turbo = next(e for e in llama["endpoints"] if e["tag"] == "deepinfra/turbo")
    assert (
        turbo["id"] == Endpoint.objects.get(tag="deepinfra/turbo", model__model_id=llama["id"]).pk
    )
    assert turbo["base_url"] == "http://127.0.0.1:8003/deepinfra/v1"
    assert turbo["api_key_env"] is None
    assert turbo["upstream_model"] == "llama-3.3-70b-instruct"
    assert turbo["provider_name"] == "DeepInfra"
    assert set(turbo["pricing"]) == {
        "prompt",
        "completion",
        "request",
        "image",
        "image_output",
        "input_cache_read",
        "input_cache_write",
        "overrides",
    }
    assert all(isinstance(v, str) for k, v in turbo["pricing"].items() if k != "overrides")
    assert set(turbo) >= {
        "variant",
        "service_tier",
        "quantization",
        "status",
        "context_length",
        "max_completion_tokens",
        "max_prompt_tokens",
        "supported_parameters",
        "data_policy",
        "can_abort",
        "api_format",
    }
    # Endpoints come cheapest first, the default routing order.
    prices = [
        Decimal(e["pricing"]["prompt"]) + Decimal(e["pricing"]["completion"])
        for e in llama["endpoints"]
    ]
    assert prices == sorted(prices)


def test_gemini_and_anthropic_endpoints_get_their_simulator_roots(loaded, redis_client) -> None:
    _, snap = _snapshot(redis_client)
    gemini = snap["models"]["google/gemini-2.5-flash"]["endpoints"]
    studio = next(e for e in gemini if e["tag"] == "google-ai-studio")
    assert studio["api_format"] == "gemini" and studio["base_url"].endswith(
        "/google-ai-studio/v1beta"
    )
    claude_on_bedrock = next(
        e
        for m in snap["models"].values()
        for e in m["endpoints"]
        if e["provider"] == "amazon-bedrock" and e["api_format"] == "anthropic"
    )
    assert claude_on_bedrock["base_url"].endswith("/amazon-bedrock/v1")


def test_an_operator_provider_keeps_its_own_base_url_and_key_name(db, redis_client) -> None:
    load_catalog(tiny_catalog())
    publish_catalog()
    _, snap = _snapshot(redis_client)
    endpoint = snap["models"]["acme/rocket-7b"]["endpoints"][0]
    assert endpoint["base_url"] == "http://127.0.0.1:8080/v1"
    assert endpoint["api_key_env"] == "LOCAL_VLLM_API_KEY"
    assert endpoint["upstream_model"] == "rocket-7b"


def test_disabled_and_deprecated_things_are_left_out(loaded, redis_client) -> None:
    llama = "meta-llama/llama-3.3-70b-instruct"
    Endpoint.objects.filter(model__model_id=llama, tag="together").update(
        status=EndpointStatus.DEPRECATED
    )
    Endpoint.objects.filter(model__model_id=llama, tag="fireworks").update(
        status=EndpointStatus.DISABLED
    )
    Model.objects.filter(model_id="openai/gpt-4o").update(enabled=False)
    Provider.objects.filter(slug="groq").update(enabled=False)
    publish_catalog()
    _, snap = _snapshot(redis_client)
    tags = {e["tag"] for e in snap["models"][llama]["endpoints"]}
    assert "together" not in tags and "fireworks" not in tags and "deepinfra" in tags
    assert "openai/gpt-4o" not in snap["models"]
    assert "groq" not in snap["providers"]
    assert all(e["provider"] != "groq" for m in snap["models"].values() for e in m["endpoints"])


def test_versions_increase_and_publish_state_republishes(loaded, redis_client, capsys) -> None:
    first, _ = _snapshot(redis_client)
    call_command("publish_state")
    second, snap = _snapshot(redis_client)
    assert second == first + 1 == snap["version"]
    assert f"catalog published as version {second}" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_one_publish_per_transaction_after_commit(redis_client) -> None:
    load_catalog_file(DEFAULT_CATALOG)  # commits, and publishes once
    start, _ = _snapshot(redis_client)
    with transaction.atomic():
        for endpoint in Endpoint.objects.filter(model__model_id="openai/gpt-4o"):
            endpoint.price_prompt = Decimal("0.000003")
            endpoint.save()
        Provider.objects.get(slug="openai").save()
        # Nothing is published before the commit.
        assert _snapshot(redis_client)[0] == start
    version, snap = _snapshot(redis_client)
    assert version == start + 1
    assert {e["pricing"]["prompt"] for e in snap["models"]["openai/gpt-4o"]["endpoints"]} == {
        "0.000003"
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_publishes_nothing(redis_client) -> None:
    load_catalog_file(DEFAULT_CATALOG)
    start, _ = _snapshot(redis_client)
    with pytest.raises(RuntimeError), transaction.atomic():
        Provider.objects.get(slug="groq").save()
        raise RuntimeError("operator cancelled")
    assert _snapshot(redis_client)[0] == start
    # The next committed change still publishes (the pending flag died with the rollback).
    Provider.objects.get(slug="groq").save()
    assert _snapshot(redis_client)[0] == start + 1


@pytest.mark.django_db(transaction=True)
def test_racing_publishers_end_on_the_latest_committed_catalog(redis_client) -> None:
    """Eight threads change prices and publish at once: versions never repeat and the last
    snapshot holds every thread's committed change."""
    load_catalog_file(DEFAULT_CATALOG)
    targets = list(
        Endpoint.objects.filter(model__model_id="meta-llama/llama-3.3-70b-instruct").values_list(
            "pk", flat=True
        )[:8]
    )
    versions: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def change_and_publish(index: int, pk: int) -> None:
        from django.db import connection

        try:
            barrier.wait()
            with transaction.atomic():
                Endpoint.objects.filter(pk=pk).update(price_request=Decimal(index + 1))
            versions.append(publish_catalog())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change_and_publish, args=(i, pk)) for i, pk in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(versions)) == len(targets)
    version, snap = _snapshot(redis_client)
    assert version == max(versions)
    requests = {
        e["id"]: e["pricing"]["request"]
        for e in snap["models"]["meta-llama/llama-3.3-70b-instruct"]["endpoints"]
    }
    assert {requests[pk] for pk in targets} == {str(i + 1) for i in range(len(targets))}
