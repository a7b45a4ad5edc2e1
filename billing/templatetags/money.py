"""Amounts of credit as people read them."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def credits(value: Decimal | float | int | None) -> str:
    """$12.50, and for spend under a cent the first significant digits ($0.0000255), so a
    charged key never reads as $0.00."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    if amount == 0 or abs(amount) >= Decimal("0.01"):
        return f"${amount:,.2f}"
    return f"${format(amount.normalize(), 'f')}" if abs(amount) >= Decimal("1e-9") else "$0.00"
