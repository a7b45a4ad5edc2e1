"""Reading PDFs without the gateway: text out, and a clear reason for every file that fails."""

import base64
import time

import pytest

from gateway import pdf
from gateway.errors import GatewayError
from tests.aio import run
from tests.plugins.files.pdfs import data_url, make_pdf

SENTENCE = "The heron waits by the quiet river at dawn."


def test_text_of_every_page_in_order():
    parsed = pdf.extract(make_pdf(SENTENCE, "Second page here."), "a.pdf", max_pages=10)
    assert parsed.pages == 2
    assert parsed.text.index(SENTENCE) < parsed.text.index("Second page here.")


def test_parse_runs_in_a_thread_and_gives_the_same_text():
    data = make_pdf(SENTENCE)
    assert run(pdf.parse(data, "a.pdf", 5)) == pdf.extract(data, "a.pdf", 5)


def reason(data: bytes, max_pages: int = 10) -> str:
    with pytest.raises(GatewayError) as caught:
        pdf.extract(data, "x.pdf", max_pages)
    err = caught.value
    assert err.status == 400 and err.metadata and err.metadata["file"] == "x.pdf"
    return err.message


def test_encrypted_pdf_says_so():
    assert "encrypted with a password" in reason(make_pdf(SENTENCE, password="hunter2"))


def test_owner_password_only_opens_like_in_any_viewer():
    locked = make_pdf(SENTENCE, password="")
    assert SENTENCE in pdf.extract(locked, "x.pdf", 5).text


def test_damaged_pdf_says_so():
    data = make_pdf(SENTENCE)
    assert "damaged or incomplete" in reason(data[: len(data) // 3])


def test_not_a_pdf_says_so():
    assert "not a PDF" in reason(b"Just some text, no PDF header.")


def test_too_many_pages_names_the_limit():
    assert "3 pages; the limit is 2" in reason(make_pdf("a", "b", "c"), max_pages=2)


def test_data_urls():
    data = make_pdf(SENTENCE)
    assert pdf.decode_data_url(data_url(data), "a.pdf") == (
        "application/pdf", data)
    with pytest.raises(GatewayError, match="not valid base64"):
        pdf.decode_data_url("data:application/pdf;base64,@@@", "a.pdf")
    with pytest.raises(GatewayError, match="must be base64-encoded"):
        pdf.decode_data_url("data:application/pdf," + base64.b64encode(data).decode(), "a.pdf")


def test_a_pdf_that_takes_too_long_to_read_is_refused(monkeypatch: pytest.MonkeyPatch):
    def slow(data: bytes, name: str, max_pages: int) -> pdf.Parsed:
        time.sleep(0.3)
        return pdf.Parsed("", 1)

    monkeypatch.setattr(pdf, "extract", slow)
    with pytest.raises(GatewayError, match=r"reading it took longer than 0\.05 s"):
        run(pdf.parse(b"%PDF-", "slow.pdf", 5, timeout=0.05))
