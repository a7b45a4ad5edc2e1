"""Prompt categories: logged prompts classified by the local classifier, only the category kept,
rolled up per day, model and category; GET /api/v1/classifications/task serves the shares."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from openrouter import OpenRouter, errors

from rankings import categories
from rankings.categories import LoggedPrompt, classify_prompts
from rankings.models import CategoryDaily, PromptCategory, Snapshot

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime.now(UTC)
CODE = "Fix this Python function: it raises a TypeError when the list is empty."
POEM = "Write a sonnet about the sea at night, with vivid imagery and a rhyme scheme."
TRANSLATE = "Translate 'where is the station' into Spanish and French."


def prompt(n: int, model: str, text: str, days_ago: int = 1, tokens: int = 100) -> LoggedPrompt:
    return LoggedPrompt(generation_id=f"gen-cat-{n}", model=model,
                        created_at=NOW - timedelta(days=days_ago), tokens=tokens, text=text)


def rollup() -> set[tuple[str, str, int, int]]:
    return {(r.model, r.category, r.requests, r.tokens) for r in CategoryDaily.objects.all()}


EXPECTED = {("a/coder", "programming", 2, 150), ("b/writer", "creative_writing", 1, 100),
            ("b/writer", "translation", 1, 100)}


def test_only_the_category_is_kept_and_rerunning_changes_nothing() -> None:
    batch = [prompt(1, "a/coder", CODE), prompt(2, "a/coder", CODE, tokens=50),
             prompt(3, "b/writer", POEM), prompt(4, "b/writer", TRANSLATE)]
    assert classify_prompts(batch) == 4
    assert dict(PromptCategory.objects.values_list("generation_id", "category")) == {
        "gen-cat-1": "programming", "gen-cat-2": "programming",
        "gen-cat-3": "creative_writing", "gen-cat-4": "translation"}
    stored = {f.name for f in PromptCategory._meta.get_fields()}
    assert not stored & {"text", "prompt", "content"}
    assert rollup() == EXPECTED
    # Re-delivered (the job ran twice, or a crash replayed a batch): nothing doubles.
    assert classify_prompts(batch) == 0
    assert rollup() == EXPECTED


def test_a_late_prompt_lands_on_its_own_day() -> None:
    classify_prompts([prompt(1, "a/coder", CODE, days_ago=1)])
    classify_prompts([prompt(2, "a/coder", CODE, days_ago=5)])
    days = dict(CategoryDaily.objects.values_list("day", "requests"))
    assert days == {(NOW - timedelta(days=1)).date(): 1, (NOW - timedelta(days=5)).date(): 1}


def test_unreadable_content_is_not_counted_nor_read_again() -> None:
    assert classify_prompts([prompt(1, "a/coder", CODE),
                             LoggedPrompt("gen-cat-2", "a/coder", NOW, 100, None)]) == 2
    assert PromptCategory.objects.get(generation_id="gen-cat-2").category == ""
    assert rollup() == {("a/coder", "programming", 1, 100)}


def test_job_publishes_top_models_by_category() -> None:
    classify_prompts([prompt(n, "a/coder", CODE) for n in range(3)]
                     + [prompt(10, "b/writer", CODE, tokens=10), prompt(11, "b/writer", POEM)])
    categories.run(NOW)
    data = Snapshot.objects.get(name="prompt_categories").data
    assert [c["category"] for c in data] == ["programming", "creative_writing"]
    assert [m["model"] for m in data[0]["models"]] == ["a/coder", "b/writer"]
    assert data[0]["label"] == "Programming"
    assert categories.category_mix("b/writer")["labels"] == ["Creative writing", "Programming"]
    assert categories.category_mix("nobody/none") == {}


def api_key(email: str = "ada@example.com") -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, stdout=out)
    return out.getvalue().strip()


def test_classifications_api_through_the_sdk(live_server, redis_client) -> None:
    classify_prompts([prompt(1, "a/coder", CODE, tokens=300), prompt(2, "b/writer", CODE),
                      prompt(3, "b/writer", POEM, tokens=600), prompt(4, "b/writer", TRANSLATE),
                      prompt(5, "b/writer", POEM, days_ago=20)])  # outside the 7-day window
    client = OpenRouter(api_key=api_key(), server_url=live_server.url + "/api/v1")
    data = client.classifications.get_task_classifications(window="7d").data
    assert data.window_days == 7
    tags = [c.tag for c in data.classifications]
    assert tags == ["code:programming", "general:creative_writing", "general:translation"]
    code = data.classifications[0]
    assert code.usage_share == pytest.approx(0.5) and code.token_share == pytest.approx(400 / 1100)
    assert code.macro_category == "code" and code.category_usage_share == pytest.approx(1.0)
    assert [(m.id, m.tag_usage_share) for m in code.models] == [("a/coder", 0.5),
                                                                ("b/writer", 0.5)]
    assert code.models[0].tag_token_share == pytest.approx(0.75)
    assert sum(c.usage_share for c in data.classifications) == pytest.approx(1.0)
    macros = {m.key: m.usage_share for m in data.macro_categories}
    assert macros == {"code": pytest.approx(0.5), "general": pytest.approx(0.5)}


def test_classifications_api_errors_and_limits(client, redis_client) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_key()}"}
    bad = client.get("/api/v1/classifications/task?window=30d", **auth)
    assert bad.status_code == 400
    assert bad.json()["error"] == {"code": 400, "message": "window must be one of 7d; got '30d'",
                                   "metadata": None}
    assert client.get("/api/v1/classifications/task").status_code == 401
    answers = [client.get("/api/v1/classifications/task", **auth) for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[30].status_code == 429
    assert answers[30].json()["error"]["code"] == 429
    assert int(answers[30]["Retry-After"]) <= 60


def test_sdk_sees_rate_limit_as_an_error(live_server, redis_client) -> None:
    key = api_key("bob@example.com")
    client = OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")
    for _ in range(30):
        client.classifications.get_task_classifications()
    with pytest.raises(errors.OpenRouterError) as raised:
        client.classifications.get_task_classifications(retries=None)
    assert raised.value.status_code == 429


def test_jobs_are_in_the_one_beat_schedule() -> None:
    from config.beat import SCHEDULE
    from config.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in SCHEDULE.values()}
    for name in ("rankings.classify_prompts", "rankings.fetch_favicons"):
        assert name in scheduled and name in app.tasks
