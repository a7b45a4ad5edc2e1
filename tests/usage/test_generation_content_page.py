"""A generation's page shows its stored input and output (escaped, wrapped at phone width), and
says plainly when nothing was stored."""

import json
import zlib
from pathlib import Path

import pytest

from tests.usage.conftest import key_row, store
from tests.usage.test_activity_page import sign_in
from usage.models import GenerationContent

pytestmark = pytest.mark.django_db(transaction=True)
HOSTILE = '<img src=x onerror="document.title=\'owned\'">'


def test_details_show_input_and_output_when_stored(page, live_server, make_key,
                                                   tmp_path: Path) -> None:
    key = key_row(make_key("ada@example.com", name="laptop"))
    logged = store(1, key)
    plain = store(2, key)
    content = {
        "input": {"messages": [
            {"role": "system", "content": "Answer in one line."},
            {"role": "user", "content": [{"type": "text", "text": "Describe " + HOSTILE},
                                         {"type": "image_url", "image_url": {"url": "x"}}]}]},
        "output": {"completion": "A tag: " + HOSTILE + " " + "long-word" * 60,
                   "reasoning": "Thinking about tags.",
                   "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "lookup", "arguments": "{}"}}]},
        "error": None,
    }
    GenerationContent.objects.create(generation_id=logged.id, user_id=key.user_id,
                                     created_at=logged.created_at,
                                     data=zlib.compress(json.dumps(content).encode()))
    sign_in(page, live_server, "ada@example.com")

    page.goto(f"{live_server.url}/activity/{logged.id}")
    section = page.inner_text("#content")
    assert "Answer in one line." in section and "[image_url]" in section
    assert "A tag: " + HOSTILE in page.inner_text("#content-completion")  # shown, not run
    assert page.title() != "owned" and page.locator("#content img").count() == 0
    assert "lookup" in section
    page.click("#content summary")
    assert "Thinking about tags." in page.inner_text("#content")
    page.screenshot(path=str(tmp_path / "generation-content-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # long output wraps instead of widening the page
    page.screenshot(path=str(tmp_path / "generation-content-390.png"), full_page=True)

    page.goto(f"{live_server.url}/activity/{plain.id}")
    assert "Not stored" in page.inner_text("#content")
