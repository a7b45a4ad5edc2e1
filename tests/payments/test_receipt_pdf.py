"""The PDF receipt: the same figures as the HTML receipt, for its owner only."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pypdf import PdfReader

from tests.payments.conftest import buy, completed

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_receipt_has_the_figures_of_the_html_one(signed_in, buyer, send):
    purchase = buy(signed_in, "10")
    send(completed(purchase, "pi_pdf"))
    purchase.refresh_from_db()

    response = signed_in.get(f"/credits/receipts/{purchase.pk}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{purchase.number}.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert purchase.number in text and "ada@example.com" in text and "pi_pdf" in text
    assert re.search(r"Credits\s*\$10\.00", text)
    assert re.search(r"Card processing fee\s*\$0\.80", text)
    assert re.search(r"Total paid \(USD\)\s*\$10\.80", text)
    assert purchase.paid_at is not None
    assert purchase.paid_at.strftime("%B %-d, %Y") in text

    # Both pages that show a receipt link to its PDF.
    url = f"/credits/receipts/{purchase.pk}.pdf"
    assert url in signed_in.get(f"/credits/receipts/{purchase.pk}").content.decode()
    assert url in signed_in.get("/credits").content.decode()


def test_another_account_cannot_download_it(signed_in, buyer, send):
    purchase = buy(signed_in, "10")
    send(completed(purchase, "pi_other"))
    other = Client()
    other.force_login(User.objects.create_user("bob", email="bob@example.com", password="x"))

    assert other.get(f"/credits/receipts/{purchase.pk}.pdf").status_code == 404
    assert Client().get(f"/credits/receipts/{purchase.pk}.pdf").status_code == 302  # sign in


def test_unpaid_purchase_has_no_pdf_receipt(signed_in):
    purchase = buy(signed_in)
    assert signed_in.get(f"/credits/receipts/{purchase.pk}.pdf").status_code == 404
