"""The fee is added on top of the credits: 5.5 % with a $0.80 minimum, in whole cents."""

from decimal import Decimal

import pytest

from billing import fees


@pytest.mark.parametrize(
    ("credits", "fee", "total"),
    [
        ("5", "0.80", "5.80"),
        ("10", "0.80", "10.80"),
        ("14.54", "0.80", "15.34"),
        ("14.55", "0.80", "15.35"),
        ("20", "1.10", "21.10"),
        ("100", "5.50", "105.50"),
        ("10.10", "0.80", "10.90"),
        ("33.33", "1.83", "35.16"),
    ],
)
def test_quote_adds_the_card_fee(credits: str, fee: str, total: str) -> None:
    quote = fees.quote(Decimal(credits))
    assert (quote.credits, quote.fee, quote.total) == (
        Decimal(credits),
        Decimal(fee),
        Decimal(total),
    )


def test_minimum_and_maximum(settings) -> None:
    settings.CREDITS_MAX_PURCHASE = 500
    with pytest.raises(fees.AmountError, match=r"minimum purchase is \$5.00"):
        fees.quote(Decimal("4.99"))
    with pytest.raises(fees.AmountError, match=r"maximum purchase is \$500.00"):
        fees.quote(Decimal("500.01"))
    assert fees.quote(Decimal(500)).total == Decimal("527.50")


@pytest.mark.parametrize("typed", ["ten", "", "NaN", "Infinity", "12.345", None])
def test_amounts_people_cannot_buy_get_a_reason(typed) -> None:
    with pytest.raises(fees.AmountError):
        fees.parse_amount(typed)


def test_typed_amounts() -> None:
    assert fees.parse_amount("$1,000") == Decimal("1000.00")
    assert fees.parse_amount(" 12.5 ") == Decimal("12.50")
