"""Prompt categories: the local classifier's verdict on logged prompts, rolled up for rankings.

Only generations whose account had prompt logging on at request time have a stored prompt
(the usage app's generation content, read through usage.content); only those are classified,
and only the category is kept (never the text). A Celery job
(`rankings.classify_prompts`, scheduled in config/beat.py) classifies what is new, then
rebuilds the per-day rollup of the days it touched, so running it twice changes nothing.
`/rankings`, model pages, `GET /api/v1/classifications/task` and the rankings-daily
`category` filter read the rollup.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Sum

from gateway.classifier import CATEGORIES, classify
from rankings.models import CategoryDaily, PromptCategory, Snapshot
from usage.models import Generation

LABELS = {name: name.replace("_", " ").capitalize() for name in CATEGORIES}
# Coarse groups, as the reference's `macro_category`: its tag prefix.
MACROS = {"code": "Code", "general": "General"}
BATCH = 2000
TOP_MODELS = 10


def macro_of(category: str) -> str:
    return "code" if category == "programming" else "general"


def tag_of(category: str) -> str:
    return f"{macro_of(category)}:{category}"


@dataclass(frozen=True)
class LoggedPrompt:
    """A generation whose prompt was logged, as the job needs it."""

    generation_id: str
    model: str
    created_at: datetime
    tokens: int  # prompt + completion
    text: str | None  # None: the stored content could not be read


def logged_prompts(limit: int) -> list[LoggedPrompt]:
    """Logged generations without a category yet, oldest first (the usage app stores the
    content; a mixture's own row is left out, as the rollups leave it out: its sub-calls are
    the real models' generations)."""
    from usage.content import prompts_of
    from usage.models import GenerationContent

    counted = Generation.objects.filter(id=OuterRef("generation_id"),
                                        created_at=OuterRef("created_at"), virtual=False)
    classified = PromptCategory.objects.filter(generation_id=OuterRef("generation_id"))
    ids = list(GenerationContent.objects.filter(Exists(counted)).exclude(Exists(classified))
               .order_by("created_at").values_list("generation_id", flat=True)[:limit])
    if not ids:
        return []
    texts = prompts_of(ids)
    return [
        # A content that cannot be read gets no category but is not looked at again.
        LoggedPrompt(gid, model, created_at, prompt + completion, texts.get(gid))
        for gid, model, created_at, prompt, completion in Generation.objects.filter(
            id__in=ids).values_list("id", "model", "created_at", "tokens_prompt",
                                    "tokens_completion")
    ]


def classify_prompts(prompts: Iterable[LoggedPrompt]) -> int:
    """Classifies and stores the prompts' categories; returns how many were new.

    A generation already classified keeps its row (re-delivery changes nothing); the rollup of
    every day touched is rebuilt from the per-generation rows, so it stays exact.
    """
    rows = [
        PromptCategory(generation_id=p.generation_id, model=p.model,
                       category="" if p.text is None else classify(p.text).category,
                       day=p.created_at.astimezone(UTC).date(), tokens=p.tokens)
        for p in prompts
    ]
    if not rows:
        return 0
    with transaction.atomic():
        before = PromptCategory.objects.filter(
            generation_id__in=[r.generation_id for r in rows]).count()
        PromptCategory.objects.bulk_create(rows, ignore_conflicts=True)
        roll_up({r.day for r in rows})
    return len({r.generation_id for r in rows}) - before


def roll_up(days: Iterable[date]) -> None:
    """Rebuilds the per-day, model and category rollup of these days from the categories."""
    days = sorted(set(days))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rankings_categorydaily WHERE day = ANY(%s)", [days])
        cursor.execute(
            "INSERT INTO rankings_categorydaily (day, model, category, requests, tokens)"
            " SELECT day, model, category, count(*), sum(tokens) FROM rankings_promptcategory"
            " WHERE day = ANY(%s) AND category <> '' GROUP BY day, model, category",
            [days],
        )


def run(now: datetime | None = None) -> int:
    """The job: every pending logged prompt classified, then the rankings snapshot."""
    total = 0
    while batch := logged_prompts(BATCH):
        new = classify_prompts(batch)
        total += new
        if new == 0:
            break  # nothing progressed: never loop on the same rows
    save_snapshot(now or datetime.now(UTC))
    if total:
        from rankings.leaderboards import publish_version

        publish_version()  # model pages show the new mix without waiting for a refresh
    return total


# --- readers -------------------------------------------------------------------------------


def _totals(start: date, end: date, model: str | None = None) -> list[tuple[str, str, int, int]]:
    rows = CategoryDaily.objects.filter(day__gte=start, day__lte=end)
    if model is not None:
        rows = rows.filter(model=model)
    return [(r["category"], r["model"], int(r["r"]), int(r["t"])) for r in
            rows.values("category", "model").annotate(r=Sum("requests"), t=Sum("tokens"))]


def top_models_by_category(now: datetime, days: int = 30) -> list[dict[str, Any]]:
    """Per category (most tokens first): its top models by tokens over the last `days` days."""
    today = now.astimezone(UTC).date()
    by_category: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for category, model, _, tokens in _totals(today - timedelta(days=days - 1), today):
        by_category[category].append((model, tokens))
    result: list[dict[str, Any]] = []
    for category, models in by_category.items():
        models.sort(key=lambda m: (-m[1], m[0]))
        result.append({"category": category, "label": LABELS.get(category, category),
                       "tokens": sum(t for _, t in models),
                       "models": [{"model": m, "tokens": t} for m, t in models[:TOP_MODELS]]})
    result.sort(key=lambda c: (-c["tokens"], c["category"]))
    return result


def save_snapshot(now: datetime) -> None:
    Snapshot.objects.update_or_create(
        name="prompt_categories",
        defaults={"data": top_models_by_category(now), "computed_at": now})


def category_mix(model_id: str, now: datetime | None = None, days: int = 30) -> dict[str, Any]:
    """A model's classified requests per category over the last `days` days (for a chart)."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    rows = _totals(today - timedelta(days=days - 1), today, model_id)
    rows.sort(key=lambda r: (-r[2], r[0]))
    total = sum(r[2] for r in rows)
    if not total:
        return {}
    return {"labels": [LABELS.get(r[0], r[0]) for r in rows],
            "values": [r[2] for r in rows],
            "shares": [round(r[2] / total, 4) for r in rows],
            "requests": total}


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def task_shares(now: datetime, days: int) -> dict[str, Any]:
    """The reference's TaskClassificationResponse `data` for the trailing `days` days."""
    end = now.astimezone(UTC).date()
    rows = _totals(end - timedelta(days=days - 1), end)
    requests: dict[str, int] = defaultdict(int)
    tokens: dict[str, int] = defaultdict(int)
    models: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for category, model, n, t in rows:
        requests[category] += n
        tokens[category] += t
        models[category].append((model, n, t))
    all_requests, all_tokens = sum(requests.values()), sum(tokens.values())
    macro_requests: dict[str, int] = defaultdict(int)
    macro_tokens: dict[str, int] = defaultdict(int)
    for category in requests:
        macro_requests[macro_of(category)] += requests[category]
        macro_tokens[macro_of(category)] += tokens[category]
    classifications = []
    for category in sorted(requests, key=lambda c: (-requests[c], c)):
        macro = macro_of(category)
        top = sorted(models[category], key=lambda m: (-m[1], m[0]))[:TOP_MODELS]
        classifications.append({
            "tag": tag_of(category),
            "display_name": LABELS.get(category, category),
            "macro_category": macro,
            "usage_share": _share(requests[category], all_requests),
            "token_share": _share(tokens[category], all_tokens),
            "category_usage_share": _share(requests[category], macro_requests[macro]),
            "category_token_share": _share(tokens[category], macro_tokens[macro]),
            "models": [{"id": model, "tag_usage_share": _share(n, requests[category]),
                        "tag_token_share": _share(t, tokens[category])} for model, n, t in top],
        })
    macro_categories = [
        {"key": key, "label": label, "usage_share": _share(macro_requests[key], all_requests),
         "token_share": _share(macro_tokens[key], all_tokens)}
        for key, label in MACROS.items()
    ]
    return {"window_days": days,
            "as_of": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "classifications": classifications, "macro_categories": macro_categories}


def daily_tokens_by_category(start: date, end: date,
                             categories: list[str]) -> list[tuple[date, str, int]]:
    """(day, model, tokens) of the classified generations in these categories."""
    return [(r["day"], r["model"], int(r["t"])) for r in
            CategoryDaily.objects.filter(day__gte=start, day__lte=end, category__in=categories)
            .values("day", "model").annotate(t=Sum("tokens"))]
