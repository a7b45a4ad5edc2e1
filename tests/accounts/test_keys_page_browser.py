"""The keys page in Chromium: create (shown once), edit, disable, delete."""

import time

import pytest

from accounts.models import ApiKey
from config import gateway_state
from tests.accounts.conftest import row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(page, live_server, make_key, tmp_path):
    make_key("ada@example.com", name="Ada's laptop", password="a long pass phrase 42")
    page.goto(live_server.url + "/accounts/login/?next=/keys")
    page.fill("input[name=login]", "ada@example.com")
    page.fill("input[name=password]", "a long pass phrase 42")
    page.screenshot(path=str(tmp_path / "sign-in.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url("**/keys")
    return page


def test_a_new_key_is_shown_once_then_only_its_label(
    signed_in_page, live_server, tmp_path, redis_client
):
    page = signed_in_page
    page.fill("input[name=name]", "Production")
    page.fill("input[name=limit]", "20")
    page.select_option("select[name=limit_reset]", "weekly")
    page.click("text=Create key")

    shown = page.input_value("#new-key")
    assert shown.startswith("sk-or-v1-") and len(shown) == 73
    assert "only time it is shown" in page.inner_text(".key-once")
    page.screenshot(path=str(tmp_path / "key-created.png"), full_page=True)
    key = row(shown)
    assert (key.name, str(key.limit), key.limit_reset) == ("Production", "20.000000000", "weekly")
    assert redis_client.hget(gateway_state.key(key.hash), "limit") == b"20000000000"

    page.goto(live_server.url + "/keys")
    assert shown not in page.content()
    assert key.label in page.inner_text("table")


def test_edit_disable_and_delete(signed_in_page, live_server, redis_client, tmp_path):
    page = signed_in_page
    key = ApiKey.objects.get()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("input[name=name]", "Old laptop")
    page.click("text=Save")
    page.wait_for_url("**/keys")
    assert "Saved “Old laptop”" in page.inner_text(".messages")

    page.click("button:has-text('Disable')")
    page.wait_for_selector("text=is now disabled")
    assert redis_client.hget(gateway_state.key(key.hash), "disabled") == b"1"
    page.screenshot(path=str(tmp_path / "keys-list.png"), full_page=True)

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Delete')")
    page.wait_for_selector("text=No keys yet")
    assert not ApiKey.objects.exists()
    assert not redis_client.exists(gateway_state.key(key.hash))


def test_another_users_key_page_is_404(signed_in_page, live_server, make_key):
    bobs = row(make_key("bob@example.com"))
    response = signed_in_page.goto(f"{live_server.url}/keys/{bobs.hash}")
    assert response.status == 404


def test_sign_out_is_one_click_from_the_header(signed_in_page, live_server):
    page = signed_in_page
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")
    assert nav.get_by_role("link", name="Sign in").is_visible()
    page.goto(live_server.url + "/keys")
    assert "/accounts/login/" in page.url


def test_last_used_shows_when_the_gateway_last_settled_a_generation(
    signed_in_page, live_server, redis_client
):
    page = signed_in_page
    key = ApiKey.objects.get(name="Ada's laptop")
    assert "never" in page.locator("tr", has_text="Ada's laptop").inner_text()
    redis_client.hset(gateway_state.key_usage(key.user_id, key.hash), mapping={
        "total": 1_500_000, "last_used": int(time.time()) - 120,
    })
    page.goto(live_server.url + "/keys")
    row = page.locator("tr", has_text="Ada's laptop").inner_text()
    assert "2\u00a0minutes ago" in row and "$0.0015" in row
