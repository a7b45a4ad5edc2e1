"""Amounts of credit as people read them."""

from decimal import Decimal

from django import template

register = template.Library()
MINUS = "\u2212"  # the typographic minus: "-$3.20" reads as a dash


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


@register.filter
def signed_usd(value: Decimal | float | int | None) -> str:
    """A ledger movement: +$10.00 in, minus sign and $1.23 out (sub-cent spend in full)."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    sign = MINUS if amount < 0 else "+"
    return sign + credits(abs(amount))


@register.filter
def usd(value: Decimal | float | int | None) -> str:
    """A balance, which may be negative after a refund or dispute (minus sign, then $3.20)."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    return (MINUS if amount < 0 else "") + credits(abs(amount))
