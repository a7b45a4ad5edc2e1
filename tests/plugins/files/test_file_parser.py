"""PDF inputs through the real gateway and simulator, with the openai SDK.

A PDF made in the test reaches a model that cannot read files as its text (the answer's usage
counts it and its annotation carries it), reaches a model that reads files as the file, is
parsed once per content (Redis cache, or the annotation sent back), and a file that cannot be
read is a 400 that says why.
"""

import hashlib
from decimal import Decimal
from typing import Any

import openai
import pytest

from gateway import keys
from gateway.plugins import files
from simulator.testing import recent_requests
from simulator.text import count_tokens
from tests.gateway.conftest import (
    ANTHROPIC_MODEL,
    GEMINI_MODEL,
    OPENAI_MODEL,
    World,
    publish_account,
)
from tests.plugins.files.conftest import SMALL
from tests.plugins.files.pdfs import file_part, make_pdf
from tests.servers import serve_asgi

SENTENCE = "The heron waits by the quiet river at dawn."
ASK = {"type": "text", "text": "What does the document say?"}


def ask(world: World, model: str, *parts: dict[str, Any], **extra: Any) -> Any:
    return world.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": [ASK, *parts]}], max_tokens=20,
        **extra)


def file_annotations(message: Any) -> list[dict[str, Any]]:
    """The message's `file` annotations, as JSON (the SDK types only url_citation ones)."""
    notes = message.to_dict().get("annotations") or []
    return [n for n in notes if n.get("type") == "file"]


def test_pdf_reaches_a_text_model_as_text_and_usage_counts_it(world: World, parses):
    data = make_pdf(SENTENCE)
    plain = ask(world, OPENAI_MODEL)
    answer = ask(world, OPENAI_MODEL, file_part(data))

    (note,) = file_annotations(answer.choices[0].message)
    assert note["file"]["hash"] == hashlib.sha256(data).hexdigest()
    assert note["file"]["name"] == "report.pdf"
    text = note["file"]["content"][0]["text"]
    assert SENTENCE in text
    # The model read the text: exactly its tokens (and the file's framing) were added.
    framed = f'<file name="report.pdf">\n{text}\n</file>'
    assert answer.usage.prompt_tokens == plain.usage.prompt_tokens + count_tokens(framed)
    assert parses == ["report.pdf"]
    (stage,) = answer.to_dict()["openrouter_metadata"]["pipeline"]
    assert stage["type"] == "plugin" and stage["name"] == "file-parser"
    assert stage["data"]["files"] == [{"name": "report.pdf", "hash": note["file"]["hash"],
                                       "pages": 1, "parsed": True}]
    # pdf-text is free: the cost is the tokens' only.
    event = world.events()[-1]
    assert event["tokens_prompt"] == answer.usage.prompt_tokens
    assert event["plugins"] == ["file-parser"]
    assert "plugin_costs" not in event


def test_streamed_answer_carries_the_annotation_and_the_same_usage(world: World):
    data = make_pdf(SENTENCE)
    whole = ask(world, OPENAI_MODEL, file_part(data))
    chunks = list(ask(world, OPENAI_MODEL, file_part(data), stream=True))

    notes = [n for c in chunks for ch in c.choices
             for n in ch.delta.to_dict().get("annotations") or []]
    assert [n["file"]["hash"] for n in notes] == [hashlib.sha256(data).hexdigest()]
    assert SENTENCE in notes[0]["file"]["content"][0]["text"]
    usage = next(c.usage for c in chunks if c.usage)
    assert usage.prompt_tokens == whole.usage.prompt_tokens


@pytest.mark.parametrize("reader", [ANTHROPIC_MODEL, GEMINI_MODEL])
def test_a_model_that_reads_files_gets_the_file_itself(world: World, parses, reader: str):
    plain = ask(world, reader)
    answer = ask(world, reader, file_part(make_pdf(SENTENCE)))
    # The simulator counts a document (Anthropic) or inline data (Gemini) as it counts an
    # image, 85 tokens: the PDF went as a file, not as text, and there is no parse to annotate.
    assert answer.usage.prompt_tokens == plain.usage.prompt_tokens + 85
    assert file_annotations(answer.choices[0].message) == []
    assert "openrouter_metadata" not in answer.to_dict()  # passed as it came: no stage
    # Checked and counted for the hold all the same.
    assert parses == ["report.pdf"]

    text = ask(world, reader, file_part(make_pdf(SENTENCE)),
               extra_body={"plugins": [{"id": "file-parser", "pdf": {"engine": "pdf-text"}}]})
    assert SENTENCE in file_annotations(text.choices[0].message)[0]["file"]["content"][0]["text"]


def test_the_same_pdf_again_is_not_parsed_again(world: World, parses):
    data = make_pdf(SENTENCE, "A second page.")
    digest = hashlib.sha256(data).hexdigest()
    first = ask(world, OPENAI_MODEL, file_part(data, "a.pdf"))
    assert world.redis.ttl(keys.parsed_file(digest)) > 0

    again = ask(world, OPENAI_MODEL, file_part(data, "a.pdf"))
    assert parses == ["a.pdf"]  # the second came from the cache
    assert again.usage.prompt_tokens == first.usage.prompt_tokens

    # The client sends the annotation back with the conversation: not even the cache is read.
    world.redis.delete(keys.parsed_file(digest))
    note = file_annotations(first.choices[0].message)[0]
    follow_up = world.client().chat.completions.create(
        model=OPENAI_MODEL, max_tokens=20, messages=[
            {"role": "user", "content": [ASK, file_part(data, "a.pdf")]},
            {"role": "assistant", "content": first.choices[0].message.content,
             "annotations": [note]},
            {"role": "user", "content": "And on the second page?"},
        ])
    assert parses == ["a.pdf"]
    assert file_annotations(follow_up.choices[0].message)[0]["file"]["hash"] == digest


def refused(world: World, part: dict[str, Any], **extra: Any) -> str:
    before = len(world.events())
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, OPENAI_MODEL, part, **extra)
    assert caught.value.status_code == 400
    body: Any = caught.value.body
    assert body["code"] == 400 and body["metadata"]["error_type"] == "invalid_request"
    assert len(world.events()) == before  # no generation, nothing charged
    return str(body["message"])


def test_broken_encrypted_and_non_pdf_files_are_refused_with_the_reason(world: World):
    data = make_pdf(SENTENCE)
    assert "damaged or incomplete" in refused(world, file_part(data[: len(data) // 3]))
    assert "encrypted with a password" in refused(
        world, file_part(make_pdf(SENTENCE, password="s3cret")))
    assert "not a PDF" in refused(world, file_part(b"plain words, no PDF"))
    assert "only PDF files" in refused(world, file_part("data:text/csv;base64,YSxi"))
    assert "not valid base64" in refused(world, file_part("data:application/pdf;base64,%%"))
    assert "mistral-ocr' is not available here" in refused(
        world, file_part(data), extra_body={"plugins": [
            {"id": "file-parser", "pdf": {"engine": "mistral-ocr"}}]})
    # The balance was never touched.
    assert world.account()["credits"] == 10 * 1_000_000_000


def test_page_limit_from_configuration(world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(files, "LIMITS", files.Limits(max_pages=2))
    assert "3 pages; the limit is 2" in refused(world, file_part(make_pdf("a", "b", "c")))


def test_urls_fetched_with_limits(world: World, monkeypatch: pytest.MonkeyPatch):
    # By default a URL on a private address is never fetched (the gateway's own network).
    assert "127.0.0.1 is not a public address" in refused(world, file_part(world.sim + "/a.pdf"))
    assert "unreachable" in refused(world, file_part("http://localhost:9/doc.pdf"))
    assert "http(s) URL" in refused(world, file_part("ftp://example.com/doc.pdf"))
    monkeypatch.setattr(files, "LIMITS", files.Limits(fetch_private=True))
    assert "HTTP 404" in refused(world, file_part(world.sim + "/no/such/doc.pdf"))


def pdf_server(data: bytes, hits: list[str]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        hits.append(scope["path"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/pdf")]})
        await send({"type": "http.response.body", "body": data})

    return serve_asgi(app)


def test_a_pdf_by_url_is_read_and_parsed_once(world: World, monkeypatch: pytest.MonkeyPatch,
                                              parses):
    monkeypatch.setattr(files, "LIMITS", files.Limits(fetch_private=True))
    hits: list[str] = []
    with pdf_server(make_pdf(SENTENCE), hits) as base:
        first = ask(world, OPENAI_MODEL, file_part(base + "/paper.pdf", "paper.pdf"))
        again = ask(world, OPENAI_MODEL, file_part(base + "/paper.pdf", "paper.pdf"))
        assert SENTENCE in file_annotations(first.choices[0].message)[0]["file"]["content"][0][
            "text"]
        assert again.usage.prompt_tokens == first.usage.prompt_tokens
        # Fetched each time (the document behind a URL may change), parsed once per content.
        assert hits == ["/paper.pdf", "/paper.pdf"] and parses == ["paper.pdf"]

        monkeypatch.setattr(files, "LIMITS", files.Limits(fetch_private=True, max_bytes=100))
        assert "larger than the limit of 100 bytes" in refused(world, file_part(base + "/big.pdf"))


def test_the_hold_counts_the_text_of_the_pdf(world: World):
    """A credit that would cover the question with a file priced as one image does not cover
    the PDF's text: refused before any model is called, so it cannot be overspent."""
    long_page = " ".join([SENTENCE] * 60)
    data = make_pdf(*[long_page] * 4)  # ~10,000 bytes of text: a hold of ~$0.0016
    publish_account(world.redis, credits_usd=0.0005)  # as one image, ~$0.0002 would fit
    with pytest.raises(openai.APIStatusError) as caught:
        ask(world, OPENAI_MODEL, file_part(data))
    assert caught.value.status_code == 402
    assert recent_requests(world.sim) == []
    assert ask(world, OPENAI_MODEL, file_part(make_pdf(SENTENCE))).usage.prompt_tokens > 0


def test_a_configured_page_price_is_charged_once_per_parse(world: World,
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(files, "LIMITS", files.Limits(price_per_1000_pages=Decimal("2")))
    data = make_pdf("one", "two", "three")
    plain = ask(world, OPENAI_MODEL, file_part(data, "first.pdf"))
    assert world.events()[-1]["plugin_costs"] == {"file-parser": "0.006000000"}
    again = ask(world, OPENAI_MODEL, file_part(data, "first.pdf"))  # from the cache: free
    assert "plugin_costs" not in world.events()[-1]
    # $2 per 1,000 pages: three pages are $0.006 on top of the tokens.
    assert round(Decimal(str(plain.usage.cost)) - Decimal(str(again.usage.cost)), 9) == \
        Decimal("0.006")


def test_the_route_counts_the_text_of_the_pdf(world: World):
    """A PDF whose text is longer than a model's context: with compression off, the clear
    context-length 400 (not an upstream failure); by default on a small model, compressed."""
    data = make_pdf(*[" ".join([SENTENCE] * 40)] * 8)  # ~14,000 bytes: ~3,500 simulator tokens
    with pytest.raises(openai.BadRequestError) as caught:
        ask(world, SMALL, file_part(data), extra_body={"transforms": []})
    body: Any = caught.value.body
    assert "context" in body["message"] and recent_requests(world.sim) == []

    answer = ask(world, SMALL, file_part(data))
    assert answer.usage.prompt_tokens <= 4096
