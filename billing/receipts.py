"""A paid purchase's receipt as a PDF: the same figures as the HTML receipt, drawn with fpdf2.

The core fonts of a PDF know Latin-1 only; anything else (an e-mail address with other
letters) is written with a replacement character rather than failing the download.
"""

from django.conf import settings
from fpdf import FPDF

from billing.checkout import receipt_lines
from billing.models import Purchase
from billing.templatetags.money import credits

FONT = "helvetica"
WIDTH = 170  # printable width of an A4 page with 20 mm margins


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_filename(purchase: Purchase) -> str:
    return f"receipt-{purchase.number}.pdf"


def receipt_pdf(purchase: Purchase) -> bytes:
    doc = FPDF(format="A4")
    doc.set_margins(20, 20, 20)
    doc.set_title(f"Receipt {purchase.number}")
    doc.set_author(settings.SITE_NAME)
    doc.set_creator(settings.SITE_NAME)
    doc.add_page()

    def line(text: str, *, size: int = 11, style: str = "", height: float = 6) -> None:
        doc.set_font(FONT, style, size)
        doc.cell(WIDTH, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def row(label: str, value: str, *, style: str = "") -> None:
        doc.set_font(FONT, style, 11)
        doc.cell(WIDTH * 0.7, 8, _latin1(label), border="B")
        doc.cell(WIDTH * 0.3, 8, _latin1(value), border="B", align="R",
                 new_x="LMARGIN", new_y="NEXT")

    line(settings.SITE_NAME, size=16, style="B", height=8)
    line(settings.SITE_URL, size=9)
    doc.ln(6)
    line(f"Receipt {purchase.number}", size=14, style="B", height=8)
    doc.ln(2)
    paid = purchase.paid_at.strftime("%B %-d, %Y %H:%M") if purchase.paid_at else "-"
    line(f"Paid on: {paid} UTC")
    line(f"Billed to: {purchase.user.email}")
    payment = purchase.get_source_display()
    if purchase.payment_intent_id:
        payment += f" - {purchase.payment_intent_id}"
    line(f"Payment: {payment}")
    doc.ln(6)
    row("Description", "Amount", style="B")
    for label, amount in receipt_lines(purchase):
        row(label, credits(amount))
    row("Total paid (USD)", credits(purchase.total), style="B")
    doc.ln(4)
    if purchase.reversed:
        line(f"Refunded or disputed: {credits(purchase.reversed)} of credits taken back.")
    line(f"Credits are prepaid usage of the models on {settings.SITE_NAME}.", size=9)
    return bytes(doc.output())
