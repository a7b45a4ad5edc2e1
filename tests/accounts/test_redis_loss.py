"""Redis loses everything in the middle of traffic through the real gateway; a reconcile --fix
restores every balance and key-usage counter from Postgres, so nothing that was spent becomes
spendable again.

Everything the product keeps in Redis lives in one database (this worker's): FLUSHDB of it is
the loss. FLUSHALL would also empty the other xdist workers' databases on the same server,
failing whatever they run at that moment."""

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection
from openai import OpenAI

from accounts import reconcile
from billing.ledger import balance
from billing.money import to_nanos
from config import gateway_state
from gateway.app import Gateway
from gateway.config import Settings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from marketplace.publish import publish_catalog
from simulator.testing import run_simulator
from tests.accounts.conftest import row
from tests.servers import serve_asgi
from usage.metering import Consumer
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "meta-llama/llama-3.3-70b-instruct"


@pytest.fixture
def gateway_url(settings, redis_client) -> Iterator[str]:
    with run_simulator() as sim:
        settings.SIMULATOR_URL = sim
        load_catalog_file(DEFAULT_CATALOG)
        publish_catalog()
        with serve_asgi(Gateway(Settings(redis_url=settings.REDIS_URL))) as url:
            yield url


@pytest.fixture
def meter(redis_client) -> Iterator[Consumer]:
    consumer = Consumer(redis_client, name="test-meter", block_ms=100, claim_idle_ms=1000)
    stop = threading.Event()

    def run() -> None:
        try:
            consumer.run(stop, claim_every_s=0.5)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield consumer
    stop.set()
    thread.join(10)


def flush_everything(
    redis_client, user_id: int
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Everything lost, atomically with reading the account's spend, the events in its usage
    stream that the meter had not read (their usage exists nowhere else), and those it had
    read and not yet stored (its batch in hand: they reach the ledger only when it commits)."""
    stream = gateway_state.usage_stream(gateway_state.shard_of(user_id))
    pipe = redis_client.pipeline(transaction=True)
    pipe.hget(gateway_state.account(user_id), "spent")
    pipe.xinfo_groups(stream)
    pipe.xrange(stream)
    pipe.xpending_range(stream, "meter", min="-", max="+", count=100_000)
    pipe.flushdb()
    spent, groups, entries, pending, _ = pipe.execute()
    delivered = next(g["last-delivered-id"] for g in groups if g["name"] == b"meter")
    in_hand_ids = {p["message_id"] for p in pending}
    events = [(entry_id, json.loads(fields[b"event"])) for entry_id, fields in entries]
    unread = [(e["id"], e["cost_nanos"]) for i, e in events if _id(i) > _id(delivered)]
    in_hand = [(e["id"], e["cost_nanos"]) for i, e in events if i in in_hand_ids]
    return int(spent), unread, in_hand


def _id(value: bytes) -> tuple[int, int]:
    ms, _, seq = value.decode().partition("-")
    return int(ms), int(seq)


def test_flushall_mid_traffic_then_reconcile_restores_every_counter(
    gateway_url, meter, ada_key, redis_client
):
    ada = row(ada_key)
    client = OpenAI(base_url=gateway_url + "/api/v1", api_key=ada_key, max_retries=0)
    served: list[str] = []
    refused: list[int] = []
    lock = threading.Lock()

    def traffic(n: int) -> None:
        for i in range(n):
            try:
                completion = client.chat.completions.create(
                    model=MODEL,
                    max_tokens=24,
                    messages=[{"role": "user", "content": f"Name a river, please ({i})."}],
                )
                with lock:
                    served.append(completion.id)
            except Exception as exc:  # 503 while Redis is being restored
                with lock:
                    refused.append(getattr(exc, "status_code", 0))
                time.sleep(0.05)

    workers = [threading.Thread(target=traffic, args=(25,)) for _ in range(3)]
    for w in workers:
        w.start()
    while len(served) < 15:
        time.sleep(0.02)
    spent_before, unread, in_hand = flush_everything(redis_client, ada.user_id)

    first, last = reconcile.fix()
    assert first.drifts and not last.drifts
    # Nothing spent before the loss is spendable again, except what no one but the lost Redis
    # had seen: events the meter had not read yet (a few ms of traffic). The batch the meter
    # had in hand is in the ledger only once it commits, which may come after this first fix:
    # the next reconcile (below, as beat runs it) counts it.
    lost = sum(nanos for _, nanos in unread)
    committing = sum(nanos for _, nanos in in_hand)
    assert int(redis_client.hget(gateway_state.account(ada.user_id), "spent")) >= (
        spent_before - lost - committing
    )
    for w in workers:
        w.join(60)
    assert len(served) > 15 and set(refused) <= {503}

    # Traffic is over: once the meter has caught up, Redis, the ledger and the generations
    # agree to the nano-dollar, every served generation charged once.
    lost_ids = {generation_id for generation_id, _ in unread}
    metered = [g for g in served if g not in lost_ids]
    deadline = time.monotonic() + 40
    while Generation.objects.filter(pk__in=metered).count() < len(metered):
        if time.monotonic() > deadline:
            stored = set(Generation.objects.values_list("pk", flat=True))
            missing = [g for g in metered if g not in stored]
            raise AssertionError(
                f"the meter did not store {missing} (unread at the loss: {unread})"
            )
        time.sleep(0.1)
    reconcile.fix()  # as beat does: picks up a batch the meter committed after the first fix
    report = reconcile.check()
    assert not report.drifts, [d.line() for d in report.drifts]
    generations = Generation.objects.filter(user_id=ada.user_id)
    total = sum((g.cost for g in generations), Decimal(0))
    assert generations.count() == len(metered)
    assert balance(ada.user_id).usage == total
    account = redis_client.hgetall(gateway_state.account(ada.user_id))
    assert int(account[b"spent"]) == to_nanos(total)
    usage = redis_client.hgetall(gateway_state.key_usage(ada.user_id, ada.hash))
    assert int(usage[b"total"]) == to_nanos(total)
