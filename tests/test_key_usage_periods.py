"""The gateway counts key usage under period field names that the web side reads back: both
sides of docs/gateway-state.md must name the same UTC day, ISO week and month."""

from datetime import UTC, datetime, timedelta

from accounts.usage import period_fields as web_fields
from gateway.metering import period_fields as gateway_fields


def test_both_sides_name_the_same_periods_all_year_round() -> None:
    start = datetime(2026, 12, 20, 23, 59, tzinfo=UTC)  # across a year and an ISO-week edge
    for hours in range(0, 24 * 400, 7):
        moment = start + timedelta(hours=hours)
        web = web_fields(moment)
        assert gateway_fields(moment) == (web["daily"], web["weekly"], web["monthly"])
