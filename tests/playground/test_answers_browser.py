"""What a user sees in a column: answers rendered safely, readable errors with what to do next,
free models without credits, and a conversation that runs as code outside the browser."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from marketplace.models import Provider
from simulator.testing import recent_requests
from tests.playground import hostile
from tests.playground.conftest import FREE, PAID, TEXT_ONLY, MakeUser, sign_in
from tests.servers import serve_asgi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def column(page: Any, model: str) -> Any:
    return page.locator(f".pg-column[data-model='{model}']")


def add_model(page: Any, query: str, model: str) -> None:
    page.fill("#pg-search", query)
    page.click(f".pg-result[data-model='{model}']")
    column(page, model).wait_for()


def send(page: Any, text: str) -> None:
    page.fill("#pg-input", text)
    page.keyboard.press("Enter")


@pytest.fixture
def hostile_openai(catalog: str) -> Iterator[str]:
    """Every endpoint of the `openai` provider served by the hostile provider, published
    before the gateway starts (it reloads the catalog at most once a second)."""
    with serve_asgi(hostile.app) as upstream:
        provider = Provider.objects.get(slug="openai")
        provider.base_url = upstream + "/v1"
        provider.save()
        yield upstream


def test_a_hostile_answer_is_shown_as_text_and_runs_nothing(
    page: Any, hostile_openai: str, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    sign_in(page, router, then=f"/playground?model={PAID}")
    dialogs: list[str] = []

    def record(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    # Other providers serve the model too: ask for the hostile one only (provider preferences).
    page.click("#pg-settings summary")
    page.fill("#pg-order", "openai")
    page.uncheck("#pg-fallbacks")
    page.click("#pg-settings summary")
    send(page, "Say something nasty [sim:tokens=10]")
    answer = column(page, PAID).locator(".pg-assistant .pg-body")
    column(page, PAID).locator(".pg-meta-cost").wait_for()

    text = answer.inner_text()
    assert '<img src=x onerror="window.__pwned = 1">' in text
    assert "<script>window.__pwned = 2</script>" in text
    assert '<iframe src="javascript:window.__pwned=4"></iframe>' in text
    # Only the renderer's own elements: no image, script, iframe; markdown still works.
    assert answer.locator("img, script, iframe").count() == 0
    assert answer.locator("strong").inner_text() == "bold"
    assert answer.locator("code").first.inner_text() == "<b>code</b>"
    assert answer.locator("pre code").inner_text().startswith("<iframe")
    # A javascript: link is left as text, never a link.
    assert answer.locator("a").count() == 0 and "[a link](javascript:" in text
    assert page.evaluate("window.__pwned") is None and dialogs == []
    # The reasoning came first and is folded away, as text too.
    reasoning = column(page, PAID).locator(".pg-reasoning")
    assert reasoning.get_attribute("open") is None
    reasoning.locator("summary").click()
    assert reasoning.locator(".pg-reasoning-text").inner_text() == hostile.THOUGHT
    assert reasoning.locator("svg").count() == 0
    page.screenshot(path=str(tmp_path / "hostile.png"))


def test_no_credits_explains_402_and_a_free_model_answers(
    page: Any, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user(credits=None)
    sign_in(page, router, then=f"/playground?model={PAID}&model={FREE}")
    send(page, "Hello there")
    error = column(page, PAID).locator(".pg-error")
    error.wait_for()
    assert "Not enough credits" in error.inner_text()
    assert "free model" in error.inner_text()
    assert error.locator("a", has_text="Add credits").get_attribute("href") == "/credits"
    column(page, FREE).locator(".pg-meta-cost").wait_for()
    assert column(page, FREE).locator(".pg-body").inner_text().strip()
    assert "$0" in column(page, FREE).locator(".pg-meta-cost").inner_text()
    page.screenshot(path=str(tmp_path / "no-credits.png"))


def test_an_image_to_a_text_only_model_is_explained_without_a_call(
    page: Any, router: str, simulator: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    sign_in(page, router, then=f"/playground?model={PAID}&model={TEXT_ONLY}")
    png = tmp_path / "dot.png"
    png.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"))
    page.set_input_files("#pg-image", str(png))
    page.locator("#pg-attached").wait_for()
    send(page, "What is in this picture?")
    error = column(page, TEXT_ONLY).locator(".pg-error")
    error.wait_for()
    assert "does not accept images" in error.inner_text()
    column(page, PAID).locator(".pg-meta-cost").wait_for()
    assert column(page, PAID).locator(".pg-user img.pg-thumb").count() == 1
    # Only the vision model was called, and the image reached it (85 prompt tokens an image).
    [call] = recent_requests(simulator)
    assert call["prompt_tokens"] > 85


def test_copy_as_code_runs_outside_the_browser(
    page: Any, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    key = make_user()
    sign_in(page, router, then=f"/playground?model={PAID}")
    page.click("#pg-settings summary")
    page.fill("#pg-system", "You answer in one line. It's \"fine\".")
    page.fill("#pg-temperature", "0.5")
    page.fill("#pg-max-tokens", "50")
    page.select_option("#pg-sort", "price")
    page.click("#pg-settings summary")
    send(page, "First question [sim:tokens=5]")
    column(page, PAID).locator(".pg-meta-cost").wait_for()
    send(page, "Second one, with 'quotes' and $HOME")
    column(page, PAID).locator(".pg-meta-cost").nth(1).wait_for()

    first_answer, second_answer = column(page, PAID).locator(".pg-body").all_inner_texts()
    column(page, PAID).locator(".pg-code").click()
    codes = {lang: page.locator(f"#pg-code-{lang}").text_content() or ""
             for lang in ("curl", "python", "typescript")}
    page.screenshot(path=str(tmp_path / "code.png"))
    for code in codes.values():
        assert "OPENROUTER_API_KEY" in code and "sk-or-v1-" not in code
        assert PAID in code and "Second one" in code
        # It ends with the last question, and carries the first answer as history.
        assert first_answer in code and second_answer not in code
    env = {**os.environ, "OPENROUTER_API_KEY": key}
    curl = subprocess.run(["bash", "-c", codes["curl"]], capture_output=True, text=True,
                          env=env, timeout=30)
    assert curl.returncode == 0 and '"choices"' in curl.stdout, curl.stdout + curl.stderr
    assert '"cost"' in curl.stdout
    script = tmp_path / "snippet.py"
    script.write_text(codes["python"])
    python = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=30)
    assert python.returncode == 0 and python.stdout.strip(), python.stderr
    # The TypeScript is plain fetch, so Node runs it as a module as it is.
    module = tmp_path / "snippet.mjs"
    module.write_text(codes["typescript"])
    node = subprocess.run(["node", str(module)], capture_output=True, text=True, env=env,
                          timeout=30)
    assert node.returncode == 0 and node.stdout.strip(), node.stderr


def knobs(simulator: str, **values: Any) -> None:
    """The same knobs for every provider of the catalog."""
    for slug in Provider.objects.values_list("slug", flat=True):
        requests.put(f"{simulator}/_control/providers/{slug}", json=values,
                     timeout=5).raise_for_status()


def test_rate_limits_and_provider_failures_read_as_what_to_do_next(
    page: Any, router: str, simulator: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    sign_in(page, router, then=f"/playground?model={PAID}")
    knobs(simulator, rate_limit_rate=1.0)
    send(page, "Hello")
    error = column(page, PAID).locator(".pg-error")
    error.wait_for()
    assert "Rate limited" in error.inner_text() and "Regenerate" in error.inner_text()

    knobs(simulator, rate_limit_rate=0.0, error_rate=1.0)
    column(page, PAID).locator(".pg-regenerate").click()
    column(page, PAID).locator(".pg-error", has_text="provider").wait_for()
    assert "Rate limited" not in column(page, PAID).inner_text()  # replaced, not added
    page.screenshot(path=str(tmp_path / "provider-failed.png"))

    knobs(simulator, error_rate=0.0)
    column(page, PAID).locator(".pg-regenerate").click()
    column(page, PAID).locator(".pg-meta-cost").wait_for()
    assert column(page, PAID).locator(".pg-error").count() == 0
    assert column(page, PAID).locator(".pg-assistant").count() == 1


def test_reasoning_effort_goes_to_reasoning_models_and_their_thoughts_fold_away(
    page: Any, router: str, make_user: MakeUser, tmp_path: Path
) -> None:
    make_user()
    thinker = "anthropic/claude-haiku-4.5"
    sign_in(page, router, then=f"/playground?model={thinker}&model={PAID}")
    page.click("#pg-settings summary")
    page.select_option("#pg-reasoning", "high")
    page.click("#pg-settings summary")
    send(page, "Think first [sim:tokens=20]")
    for model in (thinker, PAID):
        column(page, model).locator(".pg-meta-cost").wait_for()
    reasoning = column(page, thinker).locator(".pg-reasoning")
    assert reasoning.count() == 1 and reasoning.get_attribute("open") is None
    reasoning.locator("summary").click()
    assert reasoning.locator(".pg-reasoning-text").inner_text().strip()
    assert column(page, PAID).locator(".pg-reasoning").count() == 0
    assert "reasoning)" in column(page, thinker).locator(".pg-meta-tokens").inner_text()

    column(page, PAID).locator(".pg-code").click()
    assert '"reasoning"' not in (page.locator("#pg-code-curl").text_content() or "")
    page.click("#pg-code-close")
    column(page, thinker).locator(".pg-code").click()
    assert '"effort": "high"' in (page.locator("#pg-code-curl").text_content() or "")
    page.click("#pg-code-close")
    reasoning.screenshot(path=str(tmp_path / "reasoning.png"))
