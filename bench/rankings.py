# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""Rankings at two sizes, side by side: page and API server time (median of N requests),
ingest rate in batches of 1,000 through the metering consumer's insert (with the rollup
triggers and without), and refresh_rankings time. Prints a table.

Server time is measured in process through Django's test client (full middleware stack, no
network), in a throwaway database, against the test Redis:

    source bin/test-env && .venv/bin/python bench/rankings_bench.py --sizes 100000,10000000

The issue's sizes are 100,000 and 10,000,000 generations over 90 days (300 models, 5,000
apps, 2,000 accounts); loading 10M takes a long while, so smaller sizes are accepted.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

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
from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from config.redis import get_redis  # noqa: E402
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file  # noqa: E402
from marketplace.publish import publish_catalog  # noqa: E402
from rankings import seed  # noqa: E402
from rankings.models import App, HourlyUsage, ModelRanking  # noqa: E402
from rankings.refresh import refresh_rankings  # noqa: E402
from usage.models import Generation  # noqa: E402

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


def grow_to(total: int, days: int, accounts: int, apps: int, models: int) -> None:
    """Seed up to `total` generations (the first call creates the accounts and apps)."""
    have = Generation.objects.count()
    if total > have:
        seed.seed(total - have, days, batch_size=10_000, accounts=accounts, apps=apps,
                  models=models)


def ingest_rate(batches: int, triggers: bool) -> float:
    """Generations per second through the consumer's insert (bulk_create, ON CONFLICT DO
    NOTHING, one transaction per batch of 1,000)."""
    users = list(get_user_model().objects.filter(username__startswith="demo-")
                 .values_list("pk", flat=True))
    rows = list(seed.rows(batches * BATCH, 30, seed=900 + triggers, user_ids=users))
    columns = seed.COLUMNS
    generations = [Generation(**{c: v for c, v in zip(columns, row, strict=True)
                                 if c != "recorded_at"}) for row in rows]
    for g in generations:
        g.id = g.id.replace("gen-demo-", f"gen-ingest-{int(triggers)}-")
    with connection.cursor() as cursor:
        action = "ENABLE" if triggers else "DISABLE"
        cursor.execute(f"ALTER TABLE rankings_generation {action} TRIGGER USER")
    try:
        start = time.perf_counter()
        for n in range(batches):
            with transaction.atomic():
                Generation.objects.bulk_create(generations[n * BATCH:(n + 1) * BATCH],
                                               ignore_conflicts=True)
        return batches * BATCH / (time.perf_counter() - start)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE rankings_generation ENABLE TRIGGER USER")


def measure(client: Client, requests: int) -> dict[str, float]:
    timings = refresh_rankings()
    results = {"refresh_rankings (s)": sum(timings.values())}
    model = ModelRanking.objects.filter(period="month").order_by("rank").first()
    app = App.objects.order_by("pk").first()
    busiest = (HourlyUsage.objects.values("user_id").annotate(n=Sum("requests"))
               .order_by("-n").first())
    assert model and app and busiest
    user = get_user_model().objects.get(pk=busiest["user_id"])
    out = io.StringIO()
    call_command("create_api_key", email=user.email, management=True, stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    pages = [
        ("/rankings (ms)", "/rankings", {}),
        ("model page (ms)", f"/{model.model}", {}),
        ("/apps (ms)", "/apps", {}),
        ("app page (ms)", f"/apps/{app.pk}", {}),
        ("GET /api/v1/activity (ms)", "/api/v1/activity", {"HTTP_AUTHORIZATION": f"Bearer {key}"}),
        ("GET /api/v1/datasets/app-rankings (ms)", "/api/v1/datasets/app-rankings",
         {"HTTP_AUTHORIZATION": f"Bearer {key}"}),
    ]
    for label, url, headers in pages:
        results[label] = median_ms(client, url, requests, **headers)
    signed_in = Client(HTTP_HOST="localhost")
    signed_in.force_login(user)
    results["busy account /activity (ms)"] = median_ms(signed_in, "/activity", requests)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,10000000")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--ingest-batches", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    get_redis().flushdb()
    columns: list[tuple[str, dict[str, float]]] = []
    try:
        load_catalog_file(DEFAULT_CATALOG)
        publish_catalog()
        client = Client(HTTP_HOST="localhost")
        for size in sizes:
            started = time.perf_counter()
            grow_to(size, args.days, args.accounts, args.apps, args.models)
            loaded = time.perf_counter() - started
            results = measure(client, args.requests)
            grown = size - (sizes[sizes.index(size) - 1] if sizes.index(size) else 0)
            results["seed load, COPY 10k batches (gen/s)"] = grown / loaded if loaded else 0.0
            results["ingest with triggers (gen/s)"] = ingest_rate(args.ingest_batches, True)
            results["ingest without triggers (gen/s)"] = ingest_rate(args.ingest_batches, False)
            columns.append((f"{size:,} gens", results))
    finally:
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
