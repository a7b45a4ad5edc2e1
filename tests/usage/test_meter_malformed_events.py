"""A malformed usage event becomes a dead letter; it never blocks the events behind it."""

import json

import pytest
from django.contrib.auth.models import User

from tests.usage.conftest import pending, stream_of, usage_event
from usage.models import DeadLetter, Generation


def test_bad_entries_are_kept_as_dead_letters_and_good_ones_stored(
    ada: User, publish, meter, redis_client
) -> None:
    before = publish(usage_event(ada.pk))
    stream = stream_of(ada.pk)
    redis_client.xadd(stream, {"event": "{not json"})
    redis_client.xadd(stream, {"event": json.dumps(usage_event(ada.pk, cost="0.5"))})
    missing = usage_event(ada.pk)
    del missing["tokens_prompt"]
    redis_client.xadd(stream, {"event": json.dumps(missing)})
    redis_client.xadd(stream, {"event": json.dumps(usage_event(ada.pk, tokens_prompt="42"))})
    redis_client.xadd(stream, {"event": json.dumps(usage_event(ada.pk, id="chatcmpl-1"))})
    redis_client.xadd(stream, {"event": json.dumps([1, 2, 3])})
    redis_client.xadd(stream, {"payload": "wrong field name"})
    after = publish(usage_event(ada.pk))

    assert meter(batch_size=3) == 9

    assert set(Generation.objects.values_list("id", flat=True)) == {before["id"], after["id"]}
    errors = list(DeadLetter.objects.order_by("entry_id").values_list("error", flat=True))
    assert len(errors) == 7
    assert errors[0].startswith("invalid JSON")
    assert errors[1] == "cost '0.5' does not equal cost_nanos 45160 / 1e9"
    assert errors[2] == "missing field 'tokens_prompt'"
    assert errors[3] == "field 'tokens_prompt' must be int, got '42'"
    assert errors[4] == "not a generation id: 'chatcmpl-1'"
    assert errors[5] == "the event is not a JSON object"
    assert errors[6] == "no 'event' field"
    assert DeadLetter.objects.filter(raw="{not json").exists()  # the raw text is kept for replay
    assert pending(redis_client) == 0


def test_a_dead_letter_is_recorded_once_when_redelivered(ada: User, meter, redis_client) -> None:
    stream = stream_of(ada.pk)
    entry_id = redis_client.xadd(stream, {"event": "garbage"})
    meter()
    # As if the consumer had crashed after its commit and before XACK: redeliver the entry.
    redis_client.xgroup_setid(stream, "meter", "0")

    meter()

    assert DeadLetter.objects.get().entry_id == entry_id.decode()


def test_an_entry_trimmed_from_the_stream_while_pending_does_not_block(
    ada: User, publish, meter, redis_client
) -> None:
    from usage.metering import Consumer

    lost = publish(usage_event(ada.pk))
    kept = publish(usage_event(ada.pk))
    consumer = Consumer(redis_client, name="crashed", claim_idle_ms=0)
    consumer.ensure_group()
    stream = stream_of(ada.pk)
    redis_client.xreadgroup("meter", "crashed", {stream: ">"}, count=10)  # read, then "crash"
    first_id = redis_client.xrange(stream, count=1)[0][0]
    redis_client.xdel(stream, first_id)

    consumer.drain()

    assert list(Generation.objects.values_list("id", flat=True)) == [kept["id"]]
    assert DeadLetter.objects.get().error == "entry deleted from the stream"
    assert lost["id"] not in set(Generation.objects.values_list("id", flat=True))
    assert pending(redis_client) == 0


@pytest.mark.parametrize("batch_size", [1, 10])
def test_an_event_the_database_refuses_does_not_hold_back_its_batch(
    ada: User, publish, meter, redis_client, batch_size: int
) -> None:
    good = [publish(usage_event(ada.pk)) for _ in range(3)]
    refused = publish(usage_event(ada.pk, app_title="nul \u0000 byte"))  # Postgres text has no NUL
    good.append(publish(usage_event(ada.pk)))

    assert meter(batch_size=batch_size) == 5

    assert set(Generation.objects.values_list("id", flat=True)) == {e["id"] for e in good}
    letter = DeadLetter.objects.get()
    assert letter.error.startswith("refused by the database")
    assert refused["id"] in letter.raw
    assert pending(redis_client) == 0
