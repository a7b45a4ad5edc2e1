"""Several consumers over one stream: each event stored exactly once, nothing left pending."""

import threading

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from tests.usage.conftest import pending, usage_event
from usage.metering import Consumer
from usage.models import Generation


@pytest.fixture
def ada(transactional_db: None) -> User:
    return User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")


def test_consumers_racing_on_one_stream_store_each_event_once(
    ada: User, publish, redis_client
) -> None:
    events = [publish(usage_event(ada.pk)) for _ in range(2000)]
    # Some events arrive twice, as after a gateway retry.
    for event in events[::50]:
        publish(event)
    start = threading.Barrier(4)
    stop = threading.Event()
    errors: list[BaseException] = []
    handled: dict[str, int] = {}

    def consume(name: str) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        # claim_idle_ms=0: every consumer also grabs the others' pending entries, the
        # worst case of overlap (a slow consumer taken for a dead one).
        consumer = Consumer(client, name=name, batch_size=37, block_ms=100, claim_idle_ms=0)
        try:
            start.wait()
            consumer.run(stop, claim_every_s=0.05)
            handled[name] = consumer.totals.entries
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=consume, args=(f"c{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = threading.Event()
        for _ in range(600):
            if Generation.objects.count() == len(events) and pending(redis_client) == 0:
                break
            deadline.wait(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert not errors
    stored = list(Generation.objects.values_list("id", flat=True))
    assert len(stored) == len(events)
    assert set(stored) == {e["id"] for e in events}
    assert pending(redis_client) == 0
    assert len([n for n in handled.values() if n > 0]) >= 2  # they did race for the work
    assert sum(handled.values()) >= len(events) + len(events[::50])
