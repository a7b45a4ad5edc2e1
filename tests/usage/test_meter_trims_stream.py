# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""The usage stream does not grow forever, and trimming never loses an event.

Entries go only once every consumer group has acknowledged them. Trimming is approximate
(whole stream nodes of a few entries each), so the tests check the exact guarantee (nothing
at or after the oldest entry some group still needs is gone) and that the stream did shrink.
"""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from tests.usage.conftest import pending, stream_length, stream_of, usage_event
from usage.metering import GROUP, STREAMS, Consumer, trim_acknowledged
from usage.models import Generation


def stream_ids(client: redis.Redis) -> list[str]:
    """Entry ids of every shard stream (these tests publish for one account, one stream)."""
    return [entry_id.decode() for stream in STREAMS for entry_id, _ in client.xrange(stream)]


def generation_ids(client: redis.Redis, entry_ids: list[str]) -> set[str]:
    events: set[str] = set()
    for entry_id in entry_ids:
        for stream in STREAMS:
            entries: Any = client.xrange(stream, entry_id, entry_id)
            if entries:
                events.add(json.loads(entries[0][1][b"event"])["id"])
    return events


@pytest.fixture
def publish_many(publish, redis_client: redis.Redis) -> Callable[[User, int], list[str]]:
    """Publish `count` events; returns their stream entry ids, oldest first."""

    def publish_many(user: User, count: int) -> list[str]:
        before = set(stream_ids(redis_client))
        for _ in range(count):
            publish(usage_event(user.pk))
        return [i for i in stream_ids(redis_client) if i not in before]

    return publish_many


def read_and_die(client: redis.Redis, count: int, group: str = GROUP) -> list[str]:
    """A consumer that reads a batch and is killed before it acknowledges anything."""
    response: Any = client.xreadgroup(group, "dead-consumer", {s: ">" for s in STREAMS},
                                      count=count)
    return [entry_id.decode() for _, entries in response for entry_id, _ in entries]


def test_once_trims_everything_it_persisted(
    ada: User, publish, publish_many, redis_client, meter
) -> None:
    publish_many(ada, 300)

    assert meter() == 300

    assert Generation.objects.count() == 300
    assert stream_length(redis_client) == 0
    # The group survives the trim: the next event is read where the last one stopped.
    publish(usage_event(ada.pk))
    assert meter() == 1
    assert Generation.objects.count() == 301


def test_entries_a_dead_consumer_left_pending_survive_until_claimed(
    ada: User, publish_many, redis_client
) -> None:
    ids = publish_many(ada, 500)
    live = Consumer(redis_client, name="live", batch_size=250)
    live.ensure_group()
    live.poll()  # the first 250: stored and acknowledged
    lost = read_and_die(redis_client, 20)  # the next 20: read, never acknowledged
    live.drain()  # the last 230, then a trim; the dead one's entries are not idle long enough

    assert lost == ids[250:270]
    lost_generations = generation_ids(redis_client, lost)
    assert Generation.objects.count() == 480
    assert not Generation.objects.filter(pk__in=lost_generations).exists()
    assert pending(redis_client) == 20
    kept = stream_ids(redis_client)
    assert set(ids[250:]) <= set(kept)  # nothing from the oldest pending entry on is gone
    assert len(kept) < 400  # and most of what came before it is

    rescuer = Consumer(redis_client, name="rescuer", claim_idle_ms=0)
    rescuer.drain()

    assert Generation.objects.filter(pk__in=lost_generations).count() == 20
    assert Generation.objects.count() == 500
    assert pending(redis_client) == 0
    assert stream_length(redis_client) == 0


def test_entries_not_yet_delivered_to_the_group_survive(
    ada: User, publish_many, redis_client
) -> None:
    first = publish_many(ada, 300)
    consumer = Consumer(redis_client, name="meter-1", batch_size=300)
    consumer.ensure_group()
    consumer.poll()
    later = publish_many(ada, 40)  # written after the group's last delivery

    trim_acknowledged(redis_client)

    kept = stream_ids(redis_client)
    assert set(later) <= set(kept)
    assert len(kept) < len(first)
    assert Generation.objects.count() == 300


def test_a_stream_nobody_consumes_yet_is_not_trimmed(ada: User, publish_many, redis_client) -> None:
    publish_many(ada, 50)  # the gateway ran before any meter created the group

    assert trim_acknowledged(redis_client) == 0
    assert stream_length(redis_client) == 50


def test_a_lagging_second_group_keeps_its_entries(
    ada: User, publish_many, redis_client, meter
) -> None:
    redis_client.xgroup_create(stream_of(ada.pk), "audit", id="0", mkstream=True)
    ids = publish_many(ada, 400)

    meter()  # the meter group is done with all of them; audit has read none

    assert Generation.objects.count() == 400
    assert stream_ids(redis_client) == ids

    read: Any = redis_client.xreadgroup("audit", "auditor", {stream_of(ada.pk): ">"},
                                         count=300)
    redis_client.xack(stream_of(ada.pk), "audit",
                      *[entry_id for entry_id, _ in read[0][1][:250]])
    meter()

    kept = stream_ids(redis_client)
    assert set(ids[250:]) <= set(kept)  # read-not-acked and never-read audit entries stay
    assert len(kept) < 400

    redis_client.xack(stream_of(ada.pk), "audit",
                      *[entry_id for entry_id, _ in read[0][1][250:]])
    meter()
    assert set(ids[300:]) <= set(stream_ids(redis_client))  # audit has still not read these


@pytest.fixture
def ada_committed(transactional_db: None) -> User:
    return User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")


def test_the_running_consumer_trims_every_few_seconds(
    ada_committed: User, publish_many, redis_client
) -> None:
    publish_many(ada_committed, 200)
    stop = threading.Event()
    errors: list[BaseException] = []

    def consume() -> None:
        own = redis.Redis.from_url(settings.REDIS_URL)
        try:
            Consumer(own, name="looping", batch_size=50, block_ms=100).run(stop, trim_every_s=0.5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()
            connection.close()

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while Generation.objects.count() < 200 or stream_length(redis_client) > 0:
            assert time.monotonic() < deadline, "the loop did not trim what it stored"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not errors
    assert pending(redis_client) == 0
