"""Synthetic usage history for demos and benchmarks (`manage.py seed_usage`).

Rows go through the real generation table with COPY, one statement per batch, so the rollup
triggers run exactly as they do for the metering consumer. The history is shaped like real
traffic: long-tailed model and app popularity, models launching and growing during the
window, a daily cycle, and a few heavy accounts. Each app belongs to one account (its keys
send the app's traffic) and uses a handful of models, as real apps do. Rows are made in time
order, hour by hour, and drawn from precomputed pools, so millions load in minutes.
Everything it writes belongs to accounts named `demo-…`, and a SyntheticData row marks the
database so that pages say "synthetic demo data"; `clear()` removes all of it (the delete
trigger subtracts it from the rollups).
"""

import math
import random
import secrets
from bisect import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from accounts.models import ApiKey
from rankings.models import App, SyntheticData
from rankings.partitions import ensure_partitions
from usage.models import Generation

DEMO_PREFIX = "demo-"
CATEGORIES = [
    "cli-agent", "ide-extension", "cloud-agent", "programming-app", "native-app-builder",
    "creative-writing", "writing-assistant", "general-chat", "personal-agent", "legal",
    "roleplay", "game",
]
WORDS = [
    "Quill", "Orbit", "Lumen", "Cobalt", "Atlas", "Nimbus", "Sage", "Pixel", "Forge", "Echo",
    "Harbor", "Vertex", "Juniper", "Kite", "Maple", "Nova", "Pilot", "Relay", "Summit", "Tide",
]
KINDS = ["Chat", "Code", "Writer", "Agent", "Notes", "Tutor", "Studio", "Assist", "Play", "Docs"]
COLUMNS = (
    "id", "user_id", "key_id", "key_hash", "model", "endpoint_id", "provider", "provider_name",
    "api_type", "streamed", "cancelled", "status", "finish_reason", "native_finish_reason",
    "tokens_prompt", "tokens_completion", "tokens_reasoning", "tokens_cached", "cost",
    "latency_ms", "ttft_ms", "generation_time_ms", "throughput", "http_referer", "app_title",
    "app_categories", "external_user", "session_id", "upstream_id", "service_tier",
    "created_at", "recorded_at",
)
SHAPE_BITS = 14
SHAPES = 2**SHAPE_BITS
FALLBACK_MODELS = [
    ("openai/gpt-4o", "openai", Decimal("0.0000025"), Decimal("0.00001")),
    ("anthropic/claude-sonnet-4", "anthropic", Decimal("0.000003"), Decimal("0.000015")),
    ("google/gemini-2.5-flash", "google-vertex", Decimal("0.0000003"), Decimal("0.0000025")),
    ("meta-llama/llama-3.3-70b-instruct", "deepinfra", Decimal("0.00000023"),
     Decimal("0.0000004")),
    ("deepseek/deepseek-chat", "deepseek", Decimal("0.00000027"), Decimal("0.0000011")),
    ("mistralai/mistral-small", "mistral", Decimal("0.0000001"), Decimal("0.0000003")),
    ("qwen/qwen-2.5-72b-instruct", "together", Decimal("0.00000035"), Decimal("0.0000004")),
]


@dataclass
class SeedModel:
    model: str
    providers: list[tuple[str, str, Decimal, Decimal]]  # slug, name, prompt, completion USD
    weight: float
    launch: float  # fraction of the window before which it has no traffic
    growth: float  # multiplier per window at the end versus the start


def _catalog_models(limit: int) -> list[tuple[str, list[tuple[str, str, Decimal, Decimal]]]]:
    """Models with their providers and prices from the catalog; a small built-in list if empty."""
    from marketplace.catalog import get_catalog

    catalog = get_catalog()
    found = []
    for entry in catalog.entries:
        if entry.is_variant_free or entry.base_id != entry.id:
            continue
        rows = [(e.provider_slug, e.provider_name, e.prompt, e.completion)
                for e in catalog.endpoints_for(entry.id)][:3]
        if rows:
            found.append((entry.id, rows))
        if len(found) >= limit:
            break
    if not found:
        found = [(m, [(p, p.title(), pr, co)]) for m, p, pr, co in FALLBACK_MODELS]
    # More models asked than the catalog has: demo variants of the real ones, at their prices
    # (rankings outlive the catalog too, so a ranked model need not be in it).
    real = list(found)
    while len(found) < limit:
        model, providers = real[len(found) % len(real)]
        found.append((f"{model}-demo-{len(found) // len(real)}", providers))
    return found[:limit]


def _apps(count: int, rng: random.Random) -> list[tuple[str, str, list[str]]]:
    apps = []
    for n in range(count):
        name = f"{rng.choice(WORDS)} {rng.choice(KINDS)}" + (f" {n}" if n >= 100 else "")
        origin = f"https://{name.lower().replace(' ', '-')}.demo.example"
        apps.append((origin, name, rng.sample(CATEGORIES, rng.choice([0, 1, 1, 2]))))
    return apps


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _accounts(accounts: int, rng: random.Random) -> list[tuple[int, list[int]]]:
    """Demo accounts (created when missing) and their API keys: 1 to 3 each, disabled, since
    demo accounts never call the API; the per-key breakdown of /activity has something to
    show."""
    User = get_user_model()
    existing = list(User.objects.filter(username__startswith=DEMO_PREFIX).order_by("pk")
                    .values_list("pk", flat=True))
    if len(existing) < accounts:
        password = make_password(None)  # unusable: demo accounts never sign in
        User.objects.bulk_create([
            User(username=f"{DEMO_PREFIX}user-{n}", email=f"{DEMO_PREFIX}user-{n}@example.com",
                 password=password)
            for n in range(len(existing), accounts)
        ])
        existing = list(User.objects.filter(username__startswith=DEMO_PREFIX).order_by("pk")
                        .values_list("pk", flat=True))
    users = existing[:accounts]
    keyless = set(users) - set(ApiKey.objects.filter(user_id__in=users)
                               .values_list("user_id", flat=True))
    ApiKey.objects.bulk_create([
        ApiKey(user_id=user, name=f"Demo key {n + 1}", hash=secrets.token_hex(32),
               label="sk-or-v1-demo...", disabled=True)
        for user in users if user in keyless for n in range(rng.choice([1, 1, 2, 3]))
    ])
    keys: dict[int, list[int]] = defaultdict(list)
    for key_id, user in ApiKey.objects.filter(user_id__in=users).values_list("pk", "user_id"):
        keys[user].append(key_id)
    return [(user, keys[user]) for user in users]


@dataclass
class Source:
    """Where traffic comes from: an app (sent by its owner's keys) or an account's own use.

    Each uses a handful of models, as real apps do, not the whole catalog."""

    user: int
    keys: list[int]
    referer: str
    title: str
    categories: str  # COPY text of the array
    models: list[int]  # indexes into the seeded models
    cum: list[float]


def _sources(seeded: list[SeedModel], accounts: list[tuple[int, list[int]]], apps: int,
             rng: random.Random) -> tuple[list[Source], list[float]]:
    """Apps, each owned by one account, then every account's direct (app-less) traffic. The
    first accounts own the biggest apps and are the heaviest direct users too."""
    model_cum = _cumulative([m.weight for m in seeded])

    def pick_models(count: int) -> list[int]:
        chosen = set(rng.choices(range(len(seeded)), cum_weights=model_cum, k=count))
        return sorted(chosen)

    sources, weights = [], []
    for rank, (origin, title, categories) in enumerate(_apps(apps, rng)):
        # Owners: the top apps belong to the first accounts (the heavy ones).
        user, keys = accounts[rank % 3] if rank < 3 else rng.choice(accounts)
        chosen = pick_models(rng.randint(2, 6) + (12 if rank < 20 else 0))
        sources.append(Source(user, keys, origin + "/", title, "{" + ",".join(categories) + "}",
                              chosen, _cumulative([seeded[m].weight for m in chosen])))
        weights.append(0.7 / (rank + 1) ** 1.2)
    scale = sum(weights)
    weights = [w / scale * 0.7 for w in weights]  # 70% of traffic names an app
    direct = [40.0 if n < 3 else 1 / (n + 1) ** 0.5 for n in range(len(accounts))]
    for (user, keys), weight in zip(accounts, direct, strict=True):
        chosen = pick_models(rng.randint(3, 12))
        sources.append(Source(user, keys, "", "", "{}", chosen,
                              _cumulative([seeded[m].weight for m in chosen])))
        weights.append(weight / sum(direct) * 0.3)
    return sources, _cumulative(weights)


def _shapes(rng: random.Random) -> list[tuple[int, int, int, int, str, str, str]]:
    """A pool of (prompt, completion, latency, ttft, throughput, status, finish) to draw from:
    drawing from a pool is what makes millions of rows affordable in Python."""
    shapes = []
    for _ in range(SHAPES):
        prompt = int(rng.lognormvariate(6.5, 1.2))
        completion = int(rng.lognormvariate(5.2, 1.0))
        latency = int(rng.lognormvariate(6.8, 0.6))
        ttft = min(latency, int(rng.lognormvariate(5.8, 0.5)))
        throughput = f"{completion / max((latency - ttft) / 1000, 0.05):.2f}"
        status = "200" if rng.random() > 0.02 else rng.choice(["429", "502", "503"])
        finish = rng.choices(["stop", "length", "tool_calls", "content_filter"],
                             weights=[85, 8, 6, 1])[0]
        shapes.append((prompt, completion, latency, ttft, throughput, status, finish))
    return shapes


def rows(generations: int, days: int, *, models: int = 60, apps: int = 300,
         accounts: list[tuple[int, list[int]]] | None = None, seed: int = 1,
         end: datetime | None = None, hours: int | None = None) -> Iterator[tuple[str, ...]]:
    """The synthetic generations in time order, as COPY text fields in COLUMNS order, over
    the `days` (or `hours`) before `end`."""
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    hours = hours or days * 24
    start = end - timedelta(hours=hours)
    catalog = _catalog_models(models)
    seeded = [
        SeedModel(model, providers, 1 / (rank + 1) ** 1.1,
                  launch=0 if rank % 4 else rng.random() * 0.7,
                  growth=rng.choice([0.5, 1, 1, 1.5, 3, 6]))
        for rank, (model, providers) in enumerate(rng.sample(catalog, len(catalog)))
    ]
    sources, source_cum = _sources(seeded, accounts or [(n, []) for n in range(1, 201)], apps,
                                   rng)
    shapes = _shapes(rng)
    # Daily cycle: busier in the (UTC) afternoon; counts per hour add up to `generations`.
    cycle = [0.55 + 0.45 * math.sin(((h % 24) - 9) / 24 * 2 * math.pi) for h in range(hours)]
    total = sum(cycle)
    number, carried = 0, 0.0
    prices = [[(slug, name, float(p) * 1e9, float(c) * 1e9) for slug, name, p, c in m.providers]
              for m in seeded]
    for h in range(hours):
        carried += generations * cycle[h] / total
        count = min(int(carried + 0.5) - number, generations - number)
        if h == hours - 1:
            count = generations - number
        position = h / hours
        # A model's traffic follows its launch and growth: the chance to keep a draw.
        keep = [0.0 if position < m.launch else (m.growth ** (position - m.launch)) / 6
                for m in seeded]
        base = start + timedelta(hours=h)
        prefix = base.strftime("%Y-%m-%d %H:")
        for _ in range(count):
            source = sources[bisect(source_cum, rng.random() * source_cum[-1])]
            index = source.models[0]
            for _attempt in range(6):
                index = source.models[bisect(source.cum, rng.random() * source.cum[-1])]
                if rng.random() < keep[index]:
                    break
            model = seeded[index]
            slug, name, prompt_nanos, completion_nanos = rng.choice(prices[index])
            prompt, completion, latency, ttft, throughput, status, finish = shapes[
                rng.getrandbits(SHAPE_BITS)]
            nanos = int(prompt * prompt_nanos + completion * completion_nanos)
            second = rng.random() * 3600
            created = f"{prefix}{int(second // 60):02d}:{second % 60:09.6f}+00"
            key = str(rng.choice(source.keys)) if source.keys else "\\N"
            yield (
                f"gen-demo-{seed}-{number:010d}", str(source.user), key, "", model.model,
                "\\N", slug, name, "completions", "t", "f", status, finish, finish,
                str(prompt), str(completion), "0", "0", f"{nanos // 10**9}.{nanos % 10**9:09d}",
                str(latency), str(ttft), str(latency - ttft), throughput, source.referer,
                source.title, source.categories, "", "", "", "", created, created,
            )
            number += 1


def copy_rows(batch: list[tuple[str, ...]]) -> None:
    """One COPY statement: the insert trigger sees the batch as one transition table."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY rankings_generation ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join("\t".join(row) + "\n" for row in batch))


def seed(generations: int, days: int, *, batch_size: int = 20_000, accounts: int = 200,
         apps: int = 300, models: int = 60, progress: Callable[[int], None] | None = None) -> int:
    """Load `generations` synthetic generations over the last `days` days."""
    ensure_partitions((datetime.now(UTC) - timedelta(days=days + 1)).date())
    run = _next_seed()
    demo = _accounts(accounts, random.Random(run))
    done = 0
    batch: list[tuple[str, ...]] = []
    for row in rows(generations, days, models=models, apps=apps, seed=run, accounts=demo):
        batch.append(row)
        if len(batch) >= batch_size:
            with transaction.atomic():
                copy_rows(batch)
            done += len(batch)
            batch = []
            if progress:
                progress(done)
    if batch:
        with transaction.atomic():
            copy_rows(batch)
        done += len(batch)
    SyntheticData.objects.create(generations=done)
    return done


def _next_seed() -> int:
    """Each run adds new generation ids (a second run adds more history, never conflicts)."""
    return SyntheticData.objects.count() + 1


def is_synthetic() -> bool:
    return SyntheticData.objects.exists()


def clear() -> int:
    """Remove every demo generation (subtracted from the rollups), account, app and marker."""
    User = get_user_model()
    demo = User.objects.filter(username__startswith=DEMO_PREFIX)
    with transaction.atomic():
        removed, _ = Generation.objects.filter(user__in=demo).delete()
        with connection.cursor() as cursor:
            # Apps nobody uses any more (only demo traffic ever named them).
            cursor.execute(
                "DELETE FROM rankings_app a WHERE NOT EXISTS"
                " (SELECT 1 FROM rankings_hourlyusage u WHERE u.app = a.origin)"
            )
        App.objects.filter(origin__endswith=".demo.example").delete()
        demo.delete()
        SyntheticData.objects.all().delete()
    return removed
