"""Formatting for catalog pages: prices per million tokens, short token counts, policies."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import template

from marketplace.pricing import MILLION

register = template.Library()


@register.filter
def per_m(value: Decimal | None) -> str:
    """USD per token -> "$0.10" per million tokens; keeps significant digits of tiny prices."""
    if value is None:
        return "—"
    if not value:
        return "$0"
    if value < 0:  # a router's price is the price of the model it picks
        return "variable"
    amount = (value * MILLION).normalize()
    if amount == amount.quantize(Decimal("0.01")):
        return f"${amount:,.2f}"
    return f"${format(amount, 'f')}"


@register.filter
def usd(value: Decimal | None) -> str:
    if value is None:
        return "—"
    if not value:
        return "$0"
    return f"${format(value.normalize(), 'f')}"


@register.filter
def tokens_short(value: int | None) -> str:
    """131072 -> "131K", 1048576 -> "1.05M"."""
    if value is None:
        return "—"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}".rstrip("0").rstrip(".") + "M"
    if value >= 1_000:
        return f"{round(value / 1_000)}K"
    return str(value)


@register.filter
def unix_date(value: int) -> str:
    return datetime.fromtimestamp(value, tz=UTC).strftime("%b %-d, %Y")


@register.filter
def policy_label(policy: dict[str, Any]) -> str:
    parts = ["May train on prompts" if policy.get("training") else "No training"]
    if policy.get("retains_prompts"):
        days = policy.get("retention_days")
        parts.append(f"retains prompts {days} days" if days else "retains prompts")
    else:
        parts.append("no retention")
    return ", ".join(parts)


@register.filter
def is_private(policy: dict[str, Any]) -> bool:
    return not policy.get("training") and not policy.get("retains_prompts")


@register.simple_tag
def page_url(query: str, number: int) -> str:
    return f"?{query}&page={number}" if query else f"?page={number}"
