"""A generation served with the account's own provider key: its list price travels in the usage
event, is kept on the generation and is reported as `byok_usage_inference` by
GET /api/v1/activity once its day is completed, and shown on the account's /activity page."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from billing.templatetags.money import usd
from tests.payments.test_byok_gateway import OWN_KEY, account, ask, gateway  # noqa: F401
from tests.usage.conftest import key_row
from usage import api
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def test_byok_list_price_reaches_the_activity_api(gateway, make_key, client,  # noqa: F811
                                                  monkeypatch) -> None:
    key = account("ada@example.com", OWN_KEY)
    admin = make_key("ada@example.com", name="admin", management=True)
    answers = [ask(gateway, key, {"only": ["openai"]})["usage"] for _ in range(2)]
    assert all(u["is_byok"] for u in answers)
    listed = sum(Decimal(str(u["cost_details"]["upstream_inference_cost"])) for u in answers)
    charged = sum(Decimal(str(u["cost"])) for u in answers)
    assert listed > 0 and charged == 0  # within the monthly allowance only the provider bills
    call_command("meter", "--once", stdout=io.StringIO())
    assert sum(g.byok_usage for g in Generation.objects.all()) == listed
    # Each generation's details say it was served with the account's own key, at what price.
    for generation in Generation.objects.all():
        data = client.get(f"/api/v1/generation?id={generation.id}",
                          HTTP_AUTHORIZATION=f"Bearer {key}").json()["data"]
        assert data["is_byok"] is True
        assert data["upstream_inference_cost"] == pytest.approx(float(generation.byok_usage))

    def activity(query: str = "") -> list[dict]:
        answer = client.get(f"/api/v1/activity{query}", HTTP_AUTHORIZATION=f"Bearer {admin}")
        assert answer.status_code == 200, answer.content
        return answer.json()["data"]

    assert activity() == []  # today is not a completed day yet
    monkeypatch.setattr(api, "last_completed_day", lambda: datetime.now(UTC).date())
    [row] = activity()
    assert (row["model"], row["provider_name"], row["requests"]) == ("openai/gpt-4o-mini",
                                                                     "OpenAI", 2)
    assert row["byok_usage_inference"] == pytest.approx(float(listed), abs=1e-12)
    assert row["usage"] == 0.0
    # The same figure for the key that sent them, read from the per-key rollup.
    [by_key] = activity(f"?api_key_hash={key_row(key).hash}")
    assert by_key["byok_usage_inference"] == row["byok_usage_inference"]


def test_activity_page_shows_what_ran_on_the_accounts_own_key(gateway, client) -> None:  # noqa: F811
    key = account("ada@example.com", OWN_KEY)
    listed = Decimal(str(ask(gateway, key, {"only": ["openai"]})["usage"]["cost_details"][
        "upstream_inference_cost"]))
    call_command("meter", "--once", stdout=io.StringIO())
    client.force_login(User.objects.get(email="ada@example.com"))
    page = client.get("/activity").content.decode()
    assert f'id="total-byok">{usd(listed)}<' in page  # the stat, at list price
    assert ">BYOK</span>" in page  # the row in the generation log
    details = client.get(f"/activity/{Generation.objects.get().id}").content.decode()
    assert 'id="byok-usage"' in details
    csv = b"".join(client.get("/activity.csv").streaming_content).decode().splitlines()
    assert csv[0].endswith(",byok_usage_usd") and Decimal(csv[1].rsplit(",", 1)[1]) == listed
