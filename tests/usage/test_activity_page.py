"""/activity in a browser: charts, breakdowns, the log, a generation's details, feedback, CSV."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from rankings.models import Feedback
from tests.usage.conftest import key_row, store

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, email: str) -> None:
    user = User.objects.get(email=email)
    user.set_password("pw-activity-123")
    user.save()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "pw-activity-123")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_activity_dashboard_log_details_feedback_and_csv(page, live_server, make_key,
                                                         tmp_path: Path) -> None:
    key = key_row(make_key("ada@example.com", name="laptop"))
    for n in range(60):
        # Every tenth ran on ada's own provider key: its list price is shown apart from spend.
        store(n, key, model="openai/gpt-4o" if n % 2 else "mistralai/mistral-small",
              byok_usage=Decimal("0.0009") if n % 10 == 0 else Decimal(0))
    store(99, key_row(make_key("bob@example.com", name="bob")), model="bob/secret-model")
    sign_in(page, live_server, "ada@example.com")
    page.goto(live_server.url + "/activity")
    assert page.inner_text("#total-requests") == "60"
    assert page.inner_text("#total-byok") == "$0.0054"
    page.wait_for_selector("#activity-chart .main-svg")
    assert "mistralai/mistral-small" in page.inner_text("#breakdowns")
    assert "bob/secret-model" not in page.content()
    assert page.locator("#generation-log tbody tr").count() == 50
    page.screenshot(path=str(tmp_path / "activity-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # drawn at phone width, as a phone loads it
    page.wait_for_selector("#activity-chart .main-svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "activity-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})

    page.select_option("#f-model", "openai/gpt-4o")
    page.click("#activity-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#total-requests") == "30"

    page.click("#generation-log tbody tr:first-child a")
    assert "openai/gpt-4o" in page.inner_text("#generation-details")
    page.select_option("#fb-category", "incoherence")
    page.fill("#fb-comment", "rambled")
    page.click("#feedback button[type=submit]")
    page.wait_for_load_state()
    assert Feedback.objects.get().category == "incoherence"

    csv = page.request.get(live_server.url + "/activity.csv?model=openai/gpt-4o").text()
    lines = csv.strip().splitlines()
    assert lines[0].startswith("id,created_at,model")
    assert len(lines) == 31


def test_activity_without_usage_says_how_to_get_some(page, live_server, make_key) -> None:
    make_key("ada@example.com", name="laptop")
    sign_in(page, live_server, "ada@example.com")
    page.goto(live_server.url + "/activity")
    assert "send a request" in page.inner_text("#activity-empty")


def test_activity_needs_sign_in(client) -> None:
    assert client.get("/activity").status_code == 302
