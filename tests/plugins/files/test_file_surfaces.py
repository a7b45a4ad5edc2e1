"""A PDF through the other surfaces: an Anthropic `document` block on /api/v1/messages and a
Responses `input_file`, both read as text by a model that does not read files."""

import base64
from typing import Any

import anthropic

from gateway import pdf
from simulator.text import count_tokens
from tests.gateway.conftest import OPENAI_MODEL, World
from tests.plugins.files.pdfs import data_url, make_pdf

SENTENCE = "The heron waits by the quiet river at dawn."
QUESTION = "What does the document say?"


def added_tokens(data: bytes, name: str) -> int:
    """Prompt tokens of the PDF's text as the gateway frames it for the model."""
    text = pdf.extract(data, name, 10).text
    assert SENTENCE in text
    return count_tokens(f'<file name="{name}">\n{text}\n</file>')


def test_messages_document_block_is_read(world: World, parses):
    client: Any = anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key,
                                      max_retries=0)
    data = make_pdf(SENTENCE)
    document = {"type": "document", "title": "heron.pdf", "source": {
        "type": "base64", "media_type": "application/pdf",
        "data": base64.b64encode(data).decode()}}

    def ask(*blocks: dict) -> Any:
        return client.messages.create(model=OPENAI_MODEL, max_tokens=20, messages=[
            {"role": "user", "content": [*blocks, {"type": "text", "text": QUESTION}]}])

    plain, read = ask(), ask(document)
    assert parses == ["heron.pdf"]
    # The document's text, and nothing but it, was added to the prompt.
    assert read.usage.input_tokens - plain.usage.input_tokens == added_tokens(data, "heron.pdf")


def test_responses_input_file_is_read(world: World, parses):
    client = world.client()
    data = make_pdf(SENTENCE)

    def ask(*parts: dict) -> Any:
        return client.responses.create(model=OPENAI_MODEL, max_output_tokens=20, input=[
            {"role": "user", "content": [*parts, {"type": "input_text", "text": QUESTION}]}])

    plain = ask()
    read = ask({"type": "input_file", "filename": "heron.pdf", "file_data": data_url(data)})
    assert parses == ["heron.pdf"]
    assert read.usage.input_tokens - plain.usage.input_tokens == added_tokens(data, "heron.pdf")
