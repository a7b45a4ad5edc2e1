"""Date windows of the datasets and activity APIs: YYYY-MM-DD, validated, in UTC days."""

from datetime import UTC, date, datetime, timedelta

from config.api_errors import ApiError

DATA_START = date(2025, 1, 1)


def last_completed_day() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def parse_day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a date in YYYY-MM-DD format, got {value!r}") from None


def window(start: str | None, end: str | None, days: int = 30) -> tuple[date, date]:
    """[start, end] inclusive; by default the `days` days ending with the last completed day."""
    end_day = parse_day(end, "end_date") or last_completed_day()
    start_day = parse_day(start, "start_date") or end_day - timedelta(days=days - 1)
    if start_day > end_day:
        raise ApiError(400, "start_date must not be after end_date")
    return max(start_day, DATA_START), end_day
