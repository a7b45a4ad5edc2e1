"""Spend under a cent stays visible on the keys pages instead of reading as $0.00."""

from decimal import Decimal

import pytest

from billing.templatetags.money import credits


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "—"),
        (0, "$0.00"),
        (Decimal("12.5"), "$12.50"),
        (Decimal("1234.567"), "$1,234.57"),
        (Decimal("0.0000255"), "$0.0000255"),
        (0.004, "$0.004"),
        (Decimal("0.000000001"), "$0.000000001"),
    ],
)
def test_credit_amounts(amount, shown) -> None:
    assert credits(amount) == shown
