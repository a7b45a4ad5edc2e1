"""What a purchase of credits costs: the card fee is added on top of the credits bought.

Card (Stripe): 5.5 % with a $0.80 minimum, as OpenRouter charges; buying $10 costs $10.80 and
buying $100 costs $105.50. Amounts are whole cents because that is what a card can be charged.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

CENT = Decimal("0.01")
CARD_FEE_RATE = Decimal("0.055")
CARD_FEE_MINIMUM = Decimal("0.80")
MINIMUM_PURCHASE = Decimal("5")


class AmountError(ValueError):
    """An amount a person cannot buy; the message says why, in words a page can show."""


@dataclass(frozen=True)
class Quote:
    credits: Decimal  # what lands on the balance
    fee: Decimal  # what the card processor's fee adds
    total: Decimal  # what the card is charged

    @property
    def total_cents(self) -> int:
        return int(self.total * 100)

    def as_json(self) -> dict[str, str]:
        return {
            "credits": f"{self.credits:.2f}",
            "fee": f"{self.fee:.2f}",
            "total": f"{self.total:.2f}",
        }


def maximum_purchase() -> Decimal:
    return Decimal(str(settings.CREDITS_MAX_PURCHASE))


def card_fee(credits: Decimal) -> Decimal:
    return max((credits * CARD_FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP), CARD_FEE_MINIMUM)


def parse_amount(raw: object) -> Decimal:
    """A dollar amount typed by a person ("10", "12.5", "$20"), or AmountError."""
    text = str(raw if raw is not None else "").strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountError("Enter an amount in dollars, for example 10 or 25.50.") from None
    if not amount.is_finite():
        raise AmountError("Enter an amount in dollars, for example 10 or 25.50.")
    if amount != amount.quantize(CENT):
        raise AmountError("Amounts are in whole cents.")
    return amount.quantize(CENT)


def quote(credits: Decimal) -> Quote:
    """The price of `credits` dollars of credit bought by card, or AmountError."""
    top = maximum_purchase()
    if credits < MINIMUM_PURCHASE:
        raise AmountError(f"The minimum purchase is ${MINIMUM_PURCHASE:,.2f}.")
    if credits > top:
        raise AmountError(f"The maximum purchase is ${top:,.2f}.")
    credits = credits.quantize(CENT)
    fee = card_fee(credits)
    return Quote(credits=credits, fee=fee, total=credits + fee)
