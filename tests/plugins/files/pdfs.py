"""PDFs made in the tests, with fpdf2: plain, multi-page, encrypted, damaged."""

import base64

from fpdf import FPDF


def make_pdf(*pages: str, password: str | None = None) -> bytes:
    doc = FPDF()
    for text in pages:
        doc.add_page()
        doc.set_font("helvetica", size=12)
        doc.multi_cell(0, 8, text)
    if password is not None:
        doc.set_encryption(owner_password="owner-secret", user_password=password)
    return bytes(doc.output())


def data_url(data: bytes, media_type: str = "application/pdf") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def file_part(data: bytes | str, filename: str = "report.pdf") -> dict:
    url = data if isinstance(data, str) else data_url(data)
    return {"type": "file", "file": {"filename": filename, "file_data": url}}


