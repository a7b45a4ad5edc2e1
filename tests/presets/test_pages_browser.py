"""The presets pages in Chromium: create a preset, call it through the gateway, edit it into a
new version, and see both versions."""

import pytest

from tests.gateway.conftest import ANTHROPIC_MODEL, LLAMA, OPENAI_MODEL
from tests.presets.conftest import openai_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(page, live_server, make_key):
    key = make_key("ada@example.com", name="Ada's laptop", password="a long pass phrase 42",
                   credits="10")
    page.goto(live_server.url + "/accounts/login/?next=/presets")
    page.fill("input[name=login]", "ada@example.com")
    page.fill("input[name=password]", "a long pass phrase 42")
    page.click("button[type=submit]")
    page.wait_for_url("**/presets")
    page.api_key = key
    return page


def test_create_call_edit_and_see_versions(
    catalog_rows, signed_in_page, live_server, gateway_url, tmp_path
):
    page = signed_in_page
    page.fill("input[name=name]", "Haiku writer")
    page.fill("input[name=slug]", "haiku")
    page.fill("textarea[name=system_prompt]", "Answer with a haiku.")
    page.fill("textarea[name=models]", f"{OPENAI_MODEL}\n{LLAMA}")
    page.fill("input[name=max_tokens]", "6")
    page.screenshot(path=str(tmp_path / "create-filled.png"), full_page=True)
    page.click("text=Create preset")
    page.wait_for_url("**/presets/haiku")
    assert "@preset/haiku" in page.inner_text("main")
    assert "v1" in page.inner_text(".preset-versions")

    client = openai_client(gateway_url, page.api_key)
    answer = client.chat.completions.create(
        model="@preset/haiku", messages=[{"role": "user", "content": "[sim:tokens=30] autumn"}])
    assert answer.model == OPENAI_MODEL and answer.usage.completion_tokens == 6

    page.fill("textarea[name=models]", LLAMA)
    page.click("text=Save new version")
    page.wait_for_selector("text=Saved as a new version")
    versions = page.inner_text(".preset-versions")
    assert "v2" in versions and "v1" in versions
    page.screenshot(path=str(tmp_path / "detail-laptop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "detail-phone.png"), full_page=True)
    page.goto(live_server.url + "/presets")
    page.screenshot(path=str(tmp_path / "list-phone.png"), full_page=True)
    assert "Haiku writer" in page.inner_text("table")


def test_unknown_model_is_refused_with_a_message(catalog_rows, signed_in_page):
    page = signed_in_page
    page.fill("input[name=name]", "Typo")
    page.fill("input[name=slug]", "typo")
    page.fill("textarea[name=models]", "openai/gpt-4o-mni")
    page.click("text=Create preset")
    assert "Unknown model: openai/gpt-4o-mni" in page.inner_text(".form-errors")


def test_a_custom_mixture_of_agents_made_on_the_page_answers(
    catalog_rows, signed_in_page, gateway_url, tmp_path
):
    page = signed_in_page
    page.fill("input[name=name]", "Panel of three")
    page.fill("input[name=slug]", "panel")
    page.fill("textarea[name=moa_proposers]", f"{OPENAI_MODEL}\n{LLAMA}\n{LLAMA}")
    page.fill("input[name=moa_aggregator]", ANTHROPIC_MODEL)
    page.check("input[name=moa_critique]")
    page.fill("textarea[name=moa_prompt]", "Merge the answers below into one.")
    page.click("text=Create preset")
    page.wait_for_url("**/presets/panel")
    page.screenshot(path=str(tmp_path / "moa-preset.png"), full_page=True)
    assert "Merge the answers below" in page.inner_text(".preset-versions")

    stream = openai_client(gateway_url, page.api_key).chat.completions.create(
        model="@preset/panel", max_tokens=12, stream=True,
        messages=[{"role": "user", "content": "[sim:tokens=6] hello"}])
    chunks = list(stream)
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning") or ""
                        for c in chunks if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert f"[{LLAMA} #2]" in reasoning and "[critique]" in reasoning and content
    assert [r["role"] for r in chunks[-1].model_extra["moa"]["sub_generations"]] == [
        "proposer", "proposer", "proposer", "critique", "aggregator"]
    page.goto(page.url.rsplit("/", 2)[0] + "/presets")
    assert "mixture of agents" in page.inner_text("table")
