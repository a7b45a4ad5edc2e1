"""GET /api/v1/activity and POST /api/v1/generation/feedback, through the openrouter SDK."""

from datetime import timedelta
from decimal import Decimal

import pytest
from openrouter import OpenRouter
from openrouter.operations import GetUserActivityRequest

from rankings.models import Feedback, ModelQuality
from rankings.refresh import refresh_rankings
from tests.usage.conftest import key_row, store, yesterday

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, key: str) -> OpenRouter:
    return OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")


def test_activity_per_day_model_and_provider(live_server, make_key) -> None:
    key = make_key("ada@example.com", name="laptop", credits="5")
    admin = make_key("ada@example.com", name="admin", management=True)
    other = make_key("bob@example.com", name="bob")
    ada_key = key_row(key)
    store(1, ada_key)
    store(2, ada_key, cost=Decimal("0.000250000"), tokens_reasoning=7)
    store(3, ada_key, model="meta-llama/llama-3.3-70b-instruct", provider="deepinfra",
          created_at=yesterday() - timedelta(days=3))
    store(4, key_row(other))  # someone else's
    store(5, ada_key, created_at=yesterday() + timedelta(days=1))  # today: not completed

    data = sdk(live_server, admin).analytics.get_user_activity().data
    rows = [(r.date_, r.model, r.requests, r.prompt_tokens, r.reasoning_tokens, r.usage)
            for r in data]
    day = yesterday().date().isoformat()
    earlier = (yesterday() - timedelta(days=3)).date().isoformat()
    assert rows == [
        (day, "openai/gpt-4o", 2, 200, 7, 0.001),
        (earlier, "meta-llama/llama-3.3-70b-instruct", 1, 100, 0, 0.00075),
    ]
    one_day = sdk(live_server, admin).analytics.get_user_activity(
        request=GetUserActivityRequest(date_=earlier)).data
    assert [r.model for r in one_day] == ["meta-llama/llama-3.3-70b-instruct"]


def test_activity_needs_a_management_key_and_valid_filters(client, make_key) -> None:
    key = make_key("ada@example.com", name="laptop")
    admin = make_key("ada@example.com", name="admin", management=True)
    answer = client.get("/api/v1/activity", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 403
    for query, status in [("date=2020-01-01", 400), ("date=yesterday", 400),
                          ("api_key_hash=" + "0" * 64, 404), ("group_by=workspace", 400)]:
        answer = client.get(f"/api/v1/activity?{query}", HTTP_AUTHORIZATION=f"Bearer {admin}")
        assert answer.status_code == status, query
        assert answer.json()["error"]["code"] == status


def test_feedback_from_the_owner_counts_in_the_quality_panel(live_server, make_key) -> None:
    key = make_key("ada@example.com", name="laptop")
    other = make_key("bob@example.com", name="bob")
    generation = store(10, key_row(key))
    client = sdk(live_server, key)
    answer = client.generations.submit_feedback(
        generation_id=generation.id, category="latency", comment="took ages")
    assert answer.data.SUCCESS is True
    with pytest.raises(Exception, match=r"404|not found|Not Found"):
        sdk(live_server, other).generations.submit_feedback(
            generation_id=generation.id, category="latency")
    assert Feedback.objects.get().category == "latency"
    refresh_rankings()
    panel = ModelQuality.objects.get(model="openai/gpt-4o", provider="openai")
    assert panel.feedback == {"latency": 1}


def test_feedback_rejects_unknown_categories(client, make_key) -> None:
    key = make_key("ada@example.com", name="laptop")
    generation = store(11, key_row(key))
    answer = client.post("/api/v1/generation/feedback",
                         {"generation_id": generation.id, "category": "vibes"},
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 400
    assert "category must be one of" in answer.json()["error"]["message"]


def test_activity_of_one_key(client, make_key) -> None:
    laptop = key_row(make_key("ada@example.com", name="laptop"))
    server = key_row(make_key("ada@example.com", name="server"))
    admin = make_key("ada@example.com", name="admin", management=True)
    store(20, laptop)
    store(21, server, cost=Decimal("0.000250000"))
    store(22, server, cost=Decimal("0.000250000"), http_referer="https://other.example/")

    def rows(query: str = "") -> list[tuple]:
        answer = client.get(f"/api/v1/activity{query}", HTTP_AUTHORIZATION=f"Bearer {admin}")
        assert answer.status_code == 200
        return [(r["model"], r["requests"], r["usage"]) for r in answer.json()["data"]]

    # All keys and apps of a day and model make one row; one key's rows are its own.
    assert rows() == [("openai/gpt-4o", 3, 0.00125)]
    assert rows(f"?api_key_hash={server.hash}") == [("openai/gpt-4o", 2, 0.0005)]
    assert rows(f"?api_key_hash={laptop.hash}") == [("openai/gpt-4o", 1, 0.00075)]
