# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
"""Rankings at two sizes, side by side, in one run: seed time, ingest rate through the
metering consumer's batch path (with the rollup triggers and without), refresh_rankings time,
and the median server time of the pages and APIs. Prints one table.

Server time is measured in process through Django's test client (full middleware stack, no
network), in a throwaway database (`<DATABASE_URL>_rankings_bench`, test_-prefixed), against
the Redis of REDIS_URL (its database is flushed):

    DATABASE_URL=postgres://marketplace@127.0.0.1:55436/marketplace \\
    REDIS_URL=redis://127.0.0.1:63806/5 .venv/bin/python bench/rankings.py

The issue's sizes are 100,000 and 10,000,000 generations over 90 days (300 models, 5,000
apps, 2,000 accounts); `--sizes` takes others. The second size grows the first's data.
"""

import argparse
import io
import itertools
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:63791/45")
os.environ.setdefault("DATABASE_URL", "postgres://marketplace@127.0.0.1:54321/marketplace")
# A database name of its own, so a test run on the same server is never in the way.
os.environ["DATABASE_URL"] += "_rankings_bench"

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from config.gateway_state import SHARDS, shard_of  # noqa: E402
from config.redis import get_redis  # noqa: E402
from marketplace.catalog import get_catalog  # noqa: E402
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file  # noqa: E402
from marketplace.publish import publish_catalog  # noqa: E402
from rankings import seed  # noqa: E402
from rankings.models import AccountDailyUsage, AppRanking, ModelRanking  # noqa: E402
from rankings.refresh import refresh_rankings  # noqa: E402
from usage.metering import _insert, _split, store_batch  # noqa: E402
from usage.models import Generation  # noqa: E402
from usage.streams import Entry  # noqa: E402

BATCH = 1000


def median_ms(client: Client, url: str, requests: int, **headers: str) -> float:
    client.get(url, **headers)  # warm caches
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def grow_to(total: int, args: argparse.Namespace) -> tuple[float, int]:
    """Seed up to `total` generations; returns the seconds it took and the rows added."""
    have = Generation.objects.count()
    started = time.perf_counter()
    if total > have:
        seed.seed(total - have, args.days, accounts=args.accounts, apps=args.apps,
                  models=args.models)
    return time.perf_counter() - started, max(total - have, 0)


def _event(row: tuple[str, ...], number: int, tag: str) -> dict[str, Any]:
    """A usage event as the gateway writes it, from a seed row (COPY text fields)."""
    fields = dict(zip(seed.COLUMNS, row, strict=True))
    nanos = int(fields["cost"].replace(".", ""))
    created = datetime.fromisoformat(fields["created_at"].replace("+00", "+00:00"))
    return {
        "id": f"gen-ingest-{tag}-{number:08d}", "user_id": int(fields["user_id"]),
        "key_id": None if fields["key_id"] == "\\N" else int(fields["key_id"]),
        "key_hash": "", "model": fields["model"], "endpoint_id": None,
        "provider": fields["provider"], "provider_name": fields["provider_name"],
        "api_type": "completions", "streamed": True, "cancelled": False,
        "status": int(fields["status"]), "finish_reason": fields["finish_reason"],
        "native_finish_reason": fields["finish_reason"],
        "tokens_prompt": int(fields["tokens_prompt"]),
        "tokens_completion": int(fields["tokens_completion"]), "tokens_reasoning": 0,
        "tokens_cached": 0, "cost": fields["cost"], "cost_nanos": nanos,
        "latency_ms": int(fields["latency_ms"]), "ttft_ms": int(fields["ttft_ms"]),
        "generation_time_ms": int(fields["generation_time_ms"]),
        "throughput": float(fields["throughput"]), "http_referer": fields["http_referer"],
        "app_title": fields["app_title"],
        "app_categories": [c for c in fields["app_categories"].strip("{}").split(",") if c],
        "upstream_id": "", "created_at": created.timestamp(),
    }


# The batches a measured ingest stores, set before its consumers fork (they inherit them).
_WORK: dict[str, Any] = {}


def _consume(first: int) -> None:
    """One consumer's share of the batches (every `consumers`-th one, from `first`)."""
    batches, parsed, consumers = _WORK["batches"], _WORK["parsed"], _WORK["consumers"]
    for n in range(first, len(batches), consumers):
        result = _insert(*batches[n]) if parsed else store_batch(batches[n])
        assert result.generations == BATCH and not result.dead, result


def _shard_batches(events: list[dict[str, Any]], batches: int) -> list[list[Entry]]:
    """Batches as the consumer reads them: each from one shard's stream (one account in
    SHARDS, by user id), the shards taken in turn, as consumers starting their sweeps at
    different shards store them at the same moment."""
    per_shard: list[list[Entry]] = [[] for _ in range(SHARDS)]
    for n, event in enumerate(events):
        per_shard[shard_of(event["user_id"])].append(
            (f"{n}-0".encode(), {b"event": json.dumps(event).encode()}))
    full = [[stream[n:n + BATCH] for n in range(0, len(stream) - BATCH + 1, BATCH)]
            for stream in per_shard]
    in_turn = [batch for sweep in itertools.zip_longest(*full) for batch in sweep if batch]
    assert len(in_turn) >= batches, "not enough traffic for that many batches"
    return in_turn[:batches]


def ingest_rate(batches: int, triggers: bool, args: argparse.Namespace,
                parsed: bool = False, consumers: int = 1) -> float:
    """Generations per second through the consumer's batch path (store_batch: parse, insert,
    ledger charge, one transaction per batch of 1,000), for traffic of the last hour; with
    `parsed`, the events are parsed beforehand and only the insert (generations, ledger
    charge, rollup triggers) is timed. `consumers` share the batches, each a process with a
    connection of its own, as several `manage.py meter` processes do."""
    demo = seed._accounts(args.accounts, __import__("random").Random(0))
    tag = f"{int(triggers)}{int(parsed)}{consumers}-{time.time_ns():x}"
    # More traffic than needed: each shard's stream must fill whole batches.
    rows = seed.rows(max(2 * batches, 3 * SHARDS) * BATCH, 1, hours=1, models=args.models,
                     apps=args.apps, accounts=demo, seed=900 + triggers, end=datetime.now(UTC))
    events = [_event(row, n, tag) for n, row in enumerate(rows)]
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE rankings_generation {'ENABLE' if triggers else 'DISABLE'}"
                       " TRIGGER USER")
    batches_of = _shard_batches(events, batches)
    # Parsed beforehand, the insert alone is timed; the parse is the same work either way.
    _WORK.update(batches=[_split(b) for b in batches_of] if parsed else batches_of,
                 parsed=parsed, consumers=consumers)
    connection.close()  # the forked consumers must not share the parent's connection
    try:
        with multiprocessing.get_context("fork").Pool(consumers) as pool:
            start = time.perf_counter()  # (a consumer's connection opens on the clock: ~5 ms)
            pool.map(_consume, range(consumers), chunksize=1)
            return batches * BATCH / (time.perf_counter() - start)
    finally:
        with connection.cursor() as cursor:
            # Gone again, with the triggers as they were when the rows came (so the rollups
            # stay exact): the database keeps its size from one measurement to the next.
            cursor.execute("DELETE FROM rankings_generation WHERE id LIKE %s AND created_at >= %s",
                           [f"gen-ingest-{tag}-%", datetime.fromtimestamp(
                               min(e["created_at"] for e in events), UTC)])
            cursor.execute("ALTER TABLE rankings_generation ENABLE TRIGGER USER")


def measure(client: Client, requests: int) -> dict[str, float]:
    # The first run after loading rebuilds every loaded day; later runs (beat) only the
    # days that changed since.
    results = {}
    for label in ("refresh_rankings after loading (s)", "refresh_rankings again (s)"):
        started = time.perf_counter()
        refresh_rankings()
        results[label] = time.perf_counter() - started
    catalog = get_catalog()
    model = next(r.model for r in ModelRanking.objects.filter(period="month").order_by("rank")
                 if r.model in catalog.by_id)
    app = AppRanking.objects.filter(period="month").order_by("rank").first().app
    busiest = (AccountDailyUsage.objects.values("user_id").annotate(n=Sum("requests"))
               .order_by("-n").first())
    user = get_user_model().objects.get(pk=busiest["user_id"])
    out = io.StringIO()
    call_command("create_api_key", email=user.email, management=True, stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    pages = [
        ("/rankings (ms)", "/rankings", {}),
        ("model page (ms)", f"/{model}", {}),
        ("/apps (ms)", "/apps", {}),
        ("app page (ms)", f"/apps/{app.pk}", {}),
        ("GET /api/v1/activity (ms)", "/api/v1/activity", {"HTTP_AUTHORIZATION": f"Bearer {key}"}),
    ]
    for label, url, headers in pages:
        results[label] = median_ms(client, url, requests, **headers)
    signed_in = Client(HTTP_HOST="localhost")
    signed_in.force_login(user)
    results["busy account /activity (ms)"] = median_ms(signed_in, "/activity", requests)
    share = busiest["n"] / AccountDailyUsage.objects.aggregate(n=Sum("requests"))["n"]
    results["  (its share of all requests, %)"] = 100 * share
    return results


def table_rows() -> dict[str, float]:
    """Rows in the generation table and the rollups (how much the rollups compress)."""
    out: dict[str, float] = {}
    with connection.cursor() as cursor:
        for label, table in [("generations", "rankings_generation"),
                             ("hourly rollup", "rankings_hourlyusage"),
                             ("account-day rollup", "rankings_accountdailyusage")]:
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[f"{label} rows"] = cursor.fetchone()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,10000000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--ingest-batches", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a --keep run left (implies --keep)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    setup_test_environment()
    if args.reuse:  # the database a --keep run left, measured again without loading
        connection.settings_dict["NAME"] = test_db = connection.creation._get_test_db_name()
        connection.close()
    else:
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        get_redis().flushdb()
    columns: list[tuple[str, dict[str, float]]] = []
    try:
        load_catalog_file(DEFAULT_CATALOG)
        publish_catalog()
        client = Client(HTTP_HOST="localhost")
        for size in sizes:
            seconds, added = grow_to(size, args)
            results = {"seed (s)": seconds, "seed (generations/s)": added / seconds}
            for path, parsed in (("whole batch path", False), ("insert only", True)):
                for consumers in (1, 2):
                    for triggers in (True, False):
                        label = (f"{path}, {consumers} consumer{'s' * (consumers > 1)},"
                                 f" {'with' if triggers else 'without'} triggers (gen/s)")
                        results[label] = ingest_rate(args.ingest_batches, triggers, args,
                                                     parsed=parsed, consumers=consumers)
            results.update(measure(client, args.requests))
            results.update(table_rows())
            columns.append((f"{size:,} gens", results))
            print(f"{size:,}: " + ", ".join(f"{k} {v:,.1f}" for k, v in results.items()),
                  file=sys.stderr, flush=True)
    finally:
        if not (args.keep or args.reuse):
            connection.creation.destroy_test_db(test_db, verbosity=0)

    labels = list(columns[0][1])
    width = max(len(label) for label in labels) + 2
    print("".ljust(width) + "".join(name.rjust(18) for name, _ in columns)
          + ("ratio".rjust(10) if len(columns) > 1 else ""))
    for label in labels:
        values = [results[label] for _, results in columns]
        ratio = f"{values[-1] / values[0]:.2f}" if len(values) > 1 and values[0] else ""
        print(label.ljust(width) + "".join(f"{v:18,.1f}" for v in values) + ratio.rjust(10))


if __name__ == "__main__":
    main()
