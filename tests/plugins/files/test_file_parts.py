"""What the plugin puts in the body for one attempt, by the model that serves it."""

from typing import Any

import orjson

from gateway import request
from gateway.catalog import Model
from gateway.plugins import Context
from gateway.plugins.files import FileInput, FileParser
from tests.aio import run

URL = "https://docs.example.com/a.pdf"
FETCHED = "data:application/pdf;base64,JVBERi0="


def attempt(reads_files: bool, engine: str | None = None) -> tuple[Any, Any]:
    req = request.parse(orjson.dumps({"model": "x/y", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Summarize."},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": URL}}]}]}))
    req.files = [FileInput(0, 1, "a.pdf", "ab" * 32, "The text.", 1, True, FETCHED)]
    ctx = Context(req=req, body=dict(req.body))
    ctx.model = Model("x/y", "x/y", 8192, (), input_modalities=frozenset(
        {"text", "file"} if reads_files else {"text"}))
    options = {"id": "file-parser", **({"pdf": {"engine": engine}} if engine else {})}
    run(FileParser(options).before(ctx))
    return req, ctx


def test_a_fetched_file_reaches_a_model_that_reads_files_as_the_checked_bytes():
    req, ctx = attempt(reads_files=True)
    part = ctx.body["messages"][0]["content"][1]
    assert part == {"type": "file", "file": {"filename": "a.pdf", "file_data": FETCHED}}
    assert ctx.annotations == []
    # The client's own message objects are never changed.
    assert req.body["messages"][0]["content"][1]["file"]["file_data"] == URL


def test_text_for_other_models_and_when_asked():
    for reads_files, engine in ((False, None), (True, "pdf-text")):
        _, ctx = attempt(reads_files, engine)
        part = ctx.body["messages"][0]["content"][1]
        assert part == {"type": "text", "text": '<file name="a.pdf">\nThe text.\n</file>'}
        assert [a["file"]["hash"] for a in ctx.annotations] == ["ab" * 32]
