"""Conversations stay in the browser: listed, renamed, deleted, exported, imported, cleared;
the keyboard sends, breaks lines and stops; the model page opens the playground with it."""

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from marketplace.models import Provider
from tests.playground.conftest import FREE, PAID, MakeUser, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def column(page: Any, model: str) -> Any:
    return page.locator(f".pg-column[data-model='{model}']")


def titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".pg-conv-open").all_inner_texts()]


def chat(page: Any, text: str, model: str = PAID, turn: int = 0) -> None:
    page.fill("#pg-input", text)
    page.keyboard.press("Enter")
    column(page, model).locator(".pg-meta-cost").nth(turn).wait_for()


def test_conversations_list_rename_delete_export_import_clear(
    page: Any, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    sign_in(page, router, then=f"/playground?model={PAID}")
    chat(page, "First chat about rivers")
    page.click("#pg-new")
    assert column(page, PAID).locator(".pg-msg").count() == 0  # same model, empty thread
    chat(page, "Second chat about stones")
    assert titles(page) == ["Second chat about stones", "First chat about rivers"]

    page.once("dialog", lambda dialog: dialog.accept("Geology"))
    page.locator(".pg-conv", has_text="Second chat").locator(".pg-conv-rename").click()
    page.locator(".pg-conv-open", has_text="Geology").wait_for()

    with page.expect_download() as download:
        page.click("#pg-export")
    exported = tmp_path / "export.json"
    download.value.save_as(exported)
    data = json.loads(exported.read_text())
    assert [c["title"] for c in data] == ["Geology", "First chat about rivers"]
    assert data[0]["threads"][PAID][0]["content"] == "Second chat about stones"

    page.locator(".pg-conv", has_text="First chat").locator(".pg-conv-delete").click()
    assert titles(page) == ["Geology"]
    page.click("#pg-clear")
    page.locator(".pg-empty").wait_for()
    assert titles(page) == []
    page.reload()
    assert titles(page) == []

    page.set_input_files("#pg-import", str(exported))
    page.locator(".pg-conv-open", has_text="Geology").wait_for()
    assert sorted(titles(page)) == ["First chat about rivers", "Geology"]
    # The imported conversation opens with its answers.
    assert "Second chat about stones" in column(page, PAID).inner_text()
    assert column(page, PAID).locator(".pg-assistant .pg-body").inner_text().strip()

    junk = tmp_path / "junk.json"
    junk.write_text('{"not": "a conversation"}')
    page.set_input_files("#pg-import", str(junk))
    page.locator("#pg-flash", has_text="Could not import").wait_for()
    assert sorted(titles(page)) == ["First chat about rivers", "Geology"]


def test_keyboard_shift_enter_breaks_a_line_and_escape_stops(
    page: Any, router: str, simulator: str, make_user: MakeUser
) -> None:
    make_user()
    for slug in Provider.objects.values_list("slug", flat=True):
        requests.put(f"{simulator}/_control/providers/{slug}", json={"tokens_per_second": 20},
                     timeout=5).raise_for_status()
    sign_in(page, router, then=f"/playground?model={PAID}&model={FREE}")
    page.click("#pg-input")
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two [sim:tokens=400]")
    assert page.input_value("#pg-input") == "line one\nline two [sim:tokens=400]"
    page.keyboard.press("Enter")
    assert page.input_value("#pg-input") == ""
    assert "line one\nline two" in column(page, PAID).locator(".pg-user-text").inner_text()
    for model in (PAID, FREE):
        column(page, model).locator(".pg-body").filter(has_text="the").wait_for()
    page.keyboard.press("Escape")
    for model in (PAID, FREE):
        column(page, model).locator(".pg-stopped").wait_for()
    assert page.locator("#pg-stop-all").is_disabled()


def test_the_model_page_opens_the_playground_with_that_model(
    page: Any, router: str, make_user: MakeUser
) -> None:
    make_user()
    sign_in(page, router, then=f"/{FREE}")
    page.click("text=Chat")
    column(page, FREE).wait_for()
    assert page.url.endswith("/playground")


def test_anonymous_visitors_see_the_page_with_a_sign_in_prompt(
    page: Any, router: str, tmp_path: Path
) -> None:
    page.goto(f"{router}/playground")
    assert "Sign in to chat" in page.locator("#pg-signin").inner_text()
    page.fill("#pg-search", "gpt-4o-mini")
    page.click(f".pg-result[data-model='{PAID}']")
    page.fill("#pg-input", "Hello")
    page.keyboard.press("Enter")
    assert "Sign in" in page.locator("#pg-flash").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "anonymous-phone.png"), full_page=True)
    page.click("#pg-signin a")
    page.wait_for_url("**/accounts/login/**")


def test_search_adds_up_to_four_models_and_settings_fold_away(
    page: Any, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    sign_in(page, router)
    for query in ("gpt-4o-mini", "claude 3.5 haiku", "llama 3.1 8b", "gemini"):
        page.fill("#pg-search", query)
        page.locator(".pg-result").first.wait_for()
        if query == "llama 3.1 8b":
            page.screenshot(path=str(tmp_path / "search.png"))
        page.locator(".pg-result").first.click()
    assert page.locator(".pg-column").count() == 4
    page.fill("#pg-search", "mistral")
    page.locator(".pg-result").first.click()
    assert page.locator(".pg-column").count() == 4
    assert "at most 4" in page.locator("#pg-flash").inner_text()
    page.fill("#pg-search", "no such model anywhere")
    assert "No model matches" in page.locator("#pg-results").inner_text()
    page.fill("#pg-search", "")

    page.click("#pg-settings summary")
    page.screenshot(path=str(tmp_path / "settings.png"))
    page.click("#pg-settings summary")
    page.fill("#pg-input", "Hello, all four [sim:tokens=30]")
    page.keyboard.press("Enter")
    for col in page.locator(".pg-column").all():
        col.locator(".pg-meta-cost").wait_for()
    page.screenshot(path=str(tmp_path / "four-laptop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "four-phone.png"))
    page.click("#pg-settings summary")
    page.screenshot(path=str(tmp_path / "settings-phone.png"))
