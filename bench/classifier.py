# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""The auto router's prompt classifier: accuracy on the labelled sets and time per prompt.

    .venv/bin/python bench/classifier.py

Prints accuracy per labelled set (tests/auto_router/*.tsv) and per category, a confusion list
of the misses of the blind set, and the classification time of short prompts (the labelled
ones) and of a long one (~9 KB), best of several rounds, with the per-request cost of the whole
auto-router step (classify + choose the models) against the shipped catalog's 90 model ids.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from gateway.auto_router import choose  # noqa: E402
from gateway.catalog import Snapshot  # noqa: E402
from gateway.classifier import CATEGORIES, classify  # noqa: E402

SETS = {"prompts.tsv": "development (lexicon written against it)",
        "heldout.tsv": "held out, then used to widen the vocabulary",
        "blind.tsv": "blind (never tuned on)"}


def rows(name: str) -> list[tuple[str, str]]:
    text = (ROOT / "tests" / "auto_router" / name).read_text()
    return [(c, p) for c, p in (line.split("\t", 1) for line in text.splitlines() if line)]


def best_time(func, repeat: int = 15) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    print(f"{'set':<14}{'prompts':>8}{'accuracy':>10}  note")
    per_category: dict[str, list[int]] = {c: [0, 0] for c in CATEGORIES}
    for name, note in SETS.items():
        labelled = rows(name)
        hits = 0
        for category, prompt in labelled:
            ok = classify(prompt).category == category
            hits += ok
            per_category[category][0] += ok
            per_category[category][1] += 1
        print(f"{name:<14}{len(labelled):>8}{hits / len(labelled):>10.1%}  {note}")
    print(f"\n{'category':<18}{'accuracy (all sets)':>20}")
    for category, (hits, total) in per_category.items():
        print(f"{category:<18}{hits / total:>20.1%}")
    print("\nblind-set misses (label -> guess):")
    for category, prompt in rows("blind.tsv"):
        guess = classify(prompt).category
        if guess != category:
            print(f"  {category:>16} -> {guess:<16} {prompt[:60]}")

    short = [p for name in SETS for _, p in rows(name)]
    per_short = best_time(lambda: [classify(p) for p in short]) / len(short)
    long_prompt = "Refactor this function to use async IO. " + "def f(x): return x * 2\n" * 400
    per_long = best_time(lambda: [classify(long_prompt) for _ in range(20)]) / 20
    shipped = orjson.loads((ROOT / "marketplace" / "data" / "catalog.json").read_bytes())
    models = {m["id"]: {"endpoints": []} for m in shipped["models"]}
    snapshot = Snapshot.parse(1, orjson.dumps({"models": models}))
    body = {"messages": [{"role": "user", "content": short[0]}],
            "plugins": [{"id": "auto-router", "allowed_models": ["openai/*", "*/claude-*"]}]}
    per_route = best_time(lambda: [choose(snapshot, body) for _ in range(200)]) / 200
    plain = {"messages": body["messages"]}
    per_plain = best_time(lambda: [choose(snapshot, plain) for _ in range(200)]) / 200
    lengths = statistics.mean(len(p) for p in short)
    print(f"\n{'what':<46}{'µs':>8}")
    print(f"{f'classify, labelled prompts (mean {lengths:.0f} chars)':<46}{per_short * 1e6:>8.1f}")
    print(f"{f'classify, one long prompt ({len(long_prompt)} chars)':<46}{per_long * 1e6:>8.1f}")
    print(f"{'classify + choose, no allowlist':<46}{per_plain * 1e6:>8.1f}")
    print(f"{'classify + choose, allowlist, 90-model catalog':<46}{per_route * 1e6:>8.1f}")
    print("target: the auto-router step adds <= 500 µs to a request")


if __name__ == "__main__":
    main()
