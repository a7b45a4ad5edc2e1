"""The answer renderer in the browser: the markdown people expect, and nothing but text from
the model, whatever it writes."""

from typing import Any

import pytest

# The page needs no data: an empty catalog renders it, and the renderer runs on its own.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

RENDER = """source => {
  const node = window.PlaygroundMarkdown.render(source);
  document.body.appendChild(node);
  return {html: node.innerHTML, text: node.innerText,
          tags: [...node.querySelectorAll('*')].map(e => e.tagName.toLowerCase())};
}"""


@pytest.fixture
def render(page: Any, live_server: Any) -> Any:
    page.goto(f"{live_server.url}/playground")
    return lambda source: page.evaluate(RENDER, source)


def test_markdown_blocks_and_inline(render: Any) -> None:
    out = render("# Title\n\nSome **bold**, *italic* and `code`.\n\n- one\n- two\n\n"
                 "1. first\n2. second\n\n> quoted\n\n```python\nprint('<hi>')\n```\n"
                 "[docs](https://example.com/a?b=1)")
    assert out["tags"] == ["h3", "p", "strong", "em", "code", "ul", "li", "li", "ol", "li", "li",
                           "blockquote", "pre", "code", "p", "a"]
    assert "print('&lt;hi&gt;')" in out["html"]
    assert 'href="https://example.com/a?b=1"' in out["html"]
    assert 'rel="noopener noreferrer nofollow"' in out["html"]


def test_words_with_stars_and_underscores_stay_as_written(render: Any) -> None:
    out = render("2*3*4 = 24, call __init__ and my_var_name")
    assert out["tags"] == ["p"]
    assert out["text"] == "2*3*4 = 24, call __init__ and my_var_name"


def test_an_unclosed_fence_mid_stream_is_already_code(render: Any) -> None:
    out = render("Here:\n```js\nconst a = '<b>';")
    assert out["tags"] == ["p", "pre", "code"]
    assert "const a = '&lt;b&gt;';" in out["html"]


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[x](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "**<iframe src=javascript:alert(1)>**",
    "`</code><img src=x onerror=alert(1)>`",
    "> <a href=javascript:alert(1)>quote</a>",
]


def test_html_and_script_urls_in_an_answer_are_only_text(render: Any) -> None:
    for source in HOSTILE:
        out = render(source)
        assert not {"img", "svg", "script", "iframe", "a"} & set(out["tags"]), source
        assert "alert(1)" in out["text"], source
