"""Synthetic usage history for demos and benchmarks (`manage.py seed_usage`).

Rows go through the real generation table with COPY, one statement per batch, so the rollup
triggers run exactly as they do for the metering consumer. The history is shaped like real
traffic: long-tailed model and app popularity, models launching and growing during the
window, a daily cycle, and a few heavy accounts. Everything it writes belongs to accounts
named `demo-…`, and a SyntheticData row marks the database so that pages say "synthetic demo
data"; `clear()` removes all of it (the delete trigger subtracts it from the rollups).
"""

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from rankings.models import App, Generation, SyntheticData
from rankings.partitions import ensure_partitions

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
    if found:
        return found
    return [(m, [(p, p.title(), pr, co)]) for m, p, pr, co in FALLBACK_MODELS][:limit]


def _users(accounts: int) -> list[int]:
    User = get_user_model()
    existing = list(User.objects.filter(username__startswith=DEMO_PREFIX).values_list(
        "pk", flat=True))
    if len(existing) < accounts:
        password = make_password(None)  # unusable: demo accounts never sign in
        User.objects.bulk_create([
            User(username=f"{DEMO_PREFIX}user-{n}", email=f"{DEMO_PREFIX}user-{n}@example.com",
                 password=password)
            for n in range(len(existing), accounts)
        ])
        existing = list(User.objects.filter(username__startswith=DEMO_PREFIX).values_list(
            "pk", flat=True))
    return existing[:accounts]


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


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return "{" + ",".join(value) + "}"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def rows(generations: int, days: int, *, models: int = 60, apps: int = 300,
         accounts: int = 200, seed: int = 1, end: datetime | None = None,
         user_ids: list[int] | None = None) -> Iterator[tuple[object, ...]]:
    """The synthetic generations, in COPY column order."""
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    span = (end - start).total_seconds()
    catalog = _catalog_models(models)
    seeded = [
        SeedModel(model, providers, 1 / (rank + 1) ** 1.1,
                  launch=0 if rank % 4 else rng.random() * 0.7,
                  growth=rng.choice([0.5, 1, 1, 1.5, 3, 6]))
        for rank, (model, providers) in enumerate(rng.sample(catalog, len(catalog)))
    ]
    app_list = _apps(apps, rng)
    app_weights = _cumulative([1 / (n + 1) ** 1.2 for n in range(len(app_list))])
    users = user_ids if user_ids is not None else list(range(1, accounts + 1))
    # A few heavy accounts send a large share of traffic.
    user_weights = _cumulative([40.0 if n < 3 else 1 / (n + 1) ** 0.5 for n in range(len(users))])
    for number in range(generations):
        # Daily cycle: busier in the (UTC) afternoon.
        while True:
            offset = rng.random() * span
            hour = (offset / 3600) % 24
            if rng.random() < 0.55 + 0.45 * math.sin((hour - 9) / 24 * 2 * math.pi):
                break
        position = offset / span
        model = _pick_model(seeded, position, rng)
        slug, name, prompt_price, completion_price = rng.choice(model.providers)
        prompt = int(rng.lognormvariate(6.5, 1.2))
        completion = int(rng.lognormvariate(5.2, 1.0))
        nanos = int((prompt * prompt_price + completion * completion_price) * 10**9)
        referer, title = "", ""
        categories: list[str] = []
        if rng.random() < 0.7:
            origin, title, categories = app_list[
                rng.choices(range(len(app_list)), cum_weights=app_weights)[0]]
            referer = origin + "/"
        status = 200 if rng.random() > 0.02 else rng.choice([429, 502, 503])
        finish = rng.choices(["stop", "length", "tool_calls", "content_filter"],
                             weights=[85, 8, 6, 1])[0]
        latency = int(rng.lognormvariate(6.8, 0.6))
        ttft = min(latency, int(rng.lognormvariate(5.8, 0.5)))
        throughput = round(completion / max((latency - ttft) / 1000, 0.05), 2)
        user = users[rng.choices(range(len(users)), cum_weights=user_weights)[0]]
        created = start + timedelta(seconds=offset)
        yield (
            f"gen-demo-{seed}-{number:010d}", user, None, "", model.model, None, slug, name,
            "completions", True, False, status, finish, finish, prompt, completion, 0,
            0, Decimal(nanos).scaleb(-9), latency, ttft, latency - ttft, throughput, referer,
            title, categories, "", "", "", "", created.isoformat(), created.isoformat(),
        )


def _pick_model(models: list[SeedModel], position: float, rng: random.Random) -> SeedModel:
    weights = [
        0.0 if position < m.launch else m.weight * m.growth ** (position - m.launch)
        for m in models
    ]
    return rng.choices(models, weights=weights)[0]


def copy_rows(batch: list[tuple[object, ...]]) -> None:
    """One COPY statement: the insert trigger sees the batch as one transition table."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY rankings_generation ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write("\t".join(_copy_value(v) for v in row) + "\n")


def seed(generations: int, days: int, *, batch_size: int = 10_000, accounts: int = 200,
         apps: int = 300, models: int = 60, progress: Callable[[int], None] | None = None) -> int:
    """Load `generations` synthetic generations over the last `days` days."""
    ensure_partitions((datetime.now(UTC) - timedelta(days=days + 1)).date())
    user_ids = _users(accounts)
    done = 0
    batch: list[tuple[object, ...]] = []
    for row in rows(generations, days, models=models, apps=apps, seed=_next_seed(),
                    user_ids=user_ids):
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
