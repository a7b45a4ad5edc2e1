"""The consumer turns each usage event into one Generation row, and only once."""

from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth.models import User

from tests.usage.conftest import pending, usage_event
from usage.models import Generation


def test_every_field_of_the_event_lands_in_the_row(ada: User, publish, meter, redis_client) -> None:
    event = publish(
        usage_event(
            ada.pk,
            tokens_reasoning=7,
            tokens_cached=3,
            external_user="customer-9",
            session_id="sess-1",
            service_tier="flex",
            app_categories=["general-chat", "roleplay"],
        )
    )

    assert meter() == 1

    row = Generation.objects.get()
    assert row.id == event["id"]
    assert row.user == ada
    assert (row.key_id, row.key_hash) == (12, "ab" * 32)
    assert (row.model, row.endpoint_id) == ("meta-llama/llama-3.3-70b-instruct", 412)
    assert (row.provider, row.provider_name, row.api_type) == (
        "deepinfra",
        "DeepInfra",
        "completions",
    )
    assert (row.streamed, row.cancelled, row.status) == (True, False, 200)
    assert (row.finish_reason, row.native_finish_reason) == ("stop", "stop")
    tokens = (row.tokens_prompt, row.tokens_completion, row.tokens_reasoning, row.tokens_cached)
    assert tokens == (42, 128, 7, 3)
    assert row.cost == Decimal("0.000045160")
    assert (row.latency_ms, row.ttft_ms, row.generation_time_ms) == (812, 240, 572)
    assert row.throughput == 223.7
    assert (row.http_referer, row.app_title) == ("https://myapp.example/chat", "My App")
    assert row.app_categories == ["general-chat", "roleplay"]
    assert (row.external_user, row.session_id, row.service_tier) == ("customer-9", "sess-1", "flex")
    assert row.upstream_id == event["upstream_id"]
    assert row.provider_responses == event["provider_responses"]
    assert row.created_at == datetime(2025, 10, 23, 15, 49, 27, 123000, tzinfo=UTC)
    assert pending(redis_client) == 0


def test_categories_are_stored_as_sent_whatever_their_characters(
    ada: User, publish, meter
) -> None:
    odd = ['say "hi"', "back\\slash", "a,b", "{braces}", "tab\there", "NULL", "", "new\nline"]
    publish(usage_event(ada.pk, app_categories=odd))
    publish(usage_event(ada.pk, app_categories=[]))

    assert meter() == 2

    assert sorted(Generation.objects.values_list("app_categories", flat=True)) == [[], odd]


def test_running_the_consumer_twice_stores_a_batch_once(
    ada: User, publish, meter, redis_client
) -> None:
    events = [publish(usage_event(ada.pk)) for _ in range(25)]

    assert meter(batch_size=10) == 25
    assert meter(batch_size=10) == 0

    assert sorted(Generation.objects.values_list("id", flat=True)) == sorted(
        e["id"] for e in events
    )
    assert pending(redis_client) == 0


def test_an_event_delivered_twice_is_one_row(ada: User, publish, meter, redis_client) -> None:
    event = usage_event(ada.pk, tokens_completion=5)
    publish(event)
    publish(event)  # the gateway retried its XADD
    assert meter() == 2
    publish(event)  # and once more, after the first copy was already stored
    assert meter() == 1

    assert Generation.objects.filter(pk=event["id"]).count() == 1
    assert Generation.objects.get().tokens_completion == 5
    assert pending(redis_client) == 0


def test_a_deleted_account_keeps_its_generation_without_an_owner(ada: User, publish, meter) -> None:
    event = publish(usage_event(ada.pk))
    ada.delete()

    meter()

    assert Generation.objects.get(pk=event["id"]).user is None


def test_a_batch_is_stored_in_a_constant_number_of_queries(
    ada: User, bob: User, publish, meter, django_assert_max_num_queries
) -> None:
    for i in range(200):
        publish(usage_event((ada if i % 2 else bob).pk))

    # One batch per shard stream (ada and bob live in two): generation rows, their ledger
    # charges, balances and the auto top-up check, whatever the number of events.
    with django_assert_max_num_queries(20):
        meter(batch_size=500)

    assert Generation.objects.count() == 200
