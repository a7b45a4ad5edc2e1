"""The prompt classifier on labelled prompts written for it (tests/auto_router/*.tsv).

prompts.tsv (220, 22 per category) is the set the lexicon was written against; heldout.tsv
(100) was written next and its misses widened the vocabulary; blind.tsv (50) was written last
and never tuned on: its accuracy is the honest estimate.
"""

from pathlib import Path

import pytest

from gateway.classifier import CATEGORIES, classify, prompt_text

HERE = Path(__file__).parent


def labelled(name: str) -> list[tuple[str, str]]:
    rows = [line.split("\t", 1) for line in (HERE / name).read_text().splitlines() if line]
    return [(category, prompt) for category, prompt in rows]


def accuracy(name: str) -> float:
    rows = labelled(name)
    return sum(classify(prompt).category == category for category, prompt in rows) / len(rows)


def test_every_category_has_labelled_prompts():
    counts = {c: 0 for c in CATEGORIES}
    for category, _ in labelled("prompts.tsv") + labelled("heldout.tsv") + labelled("blind.tsv"):
        counts[category] += 1
    assert all(n >= 32 for n in counts.values()), counts
    assert sum(counts.values()) == 370


@pytest.mark.parametrize(("name", "floor"), [
    ("prompts.tsv", 0.97), ("heldout.tsv", 0.9), ("blind.tsv", 0.7)])
def test_accuracy_on_the_labelled_sets(name: str, floor: float):
    assert accuracy(name) >= floor


def test_difficulty_grows_with_the_task():
    assert classify("Translate 'hello' into French.").difficulty == "easy"
    assert classify("Write a Python function that parses a date string and returns a "
                    "datetime, with a docstring.").difficulty == "medium"
    hard = classify("Design a thread-safe, distributed job queue in Go; analyse the "
                    "concurrency trade-offs and the worst case complexity.")
    assert (hard.category, hard.difficulty) == ("programming", "hard")


def test_reads_the_last_user_turn_and_the_system_prompt():
    messages = [{"role": "system", "content": "You are a translator."},
                {"role": "user", "content": "Write a poem."},
                {"role": "assistant", "content": "..."},
                {"role": "user",
                 "content": [{"type": "text", "text": "Now in German: good night"}]}]
    text = prompt_text(messages)
    assert text.startswith("Now in German") and "translator" in text
    assert classify(text).category == "translation"
