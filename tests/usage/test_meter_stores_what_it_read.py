"""A batch the consumer has read is stored before it reads the next stream: if Redis loses its
data in between (the next read fails with NOGROUP), the batch's pending record is gone with it,
and a batch read but not stored would never be billed."""

import pytest
import redis
from django.contrib.auth.models import User

from tests.usage.conftest import stream_of, usage_event
from usage.metering import STREAMS, Consumer
from usage.models import Generation


def test_a_batch_in_hand_is_stored_when_a_later_stream_is_gone(db, publish, redis_client):
    # An account whose shard stream is read before some other stream.
    user = User.objects.create(username="u0")
    while STREAMS.index(stream_of(user.pk)) == len(STREAMS) - 1:
        user = User.objects.create(username=f"u{user.pk}")
    consumer = Consumer(redis_client, name="meter-1")
    consumer.ensure_group()
    events = [publish(usage_event(user.pk)) for _ in range(3)]
    later = STREAMS[STREAMS.index(stream_of(user.pk)) + 1]
    redis_client.delete(later)  # as after a FLUSHALL: the group of that stream is gone

    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        consumer.poll()

    assert set(Generation.objects.values_list("id", flat=True)) == {e["id"] for e in events}
