"""Monthly partitions of the generation table (created ahead, old ones detached).

The table and `rankings_generation_partition()` are made by migration 0004. Detaching a month
removes its raw rows from the table without touching the rollups, which keep rankings history.
"""

from datetime import UTC, date, datetime

from django.db import connection

MONTHS_AHEAD = 3


def month_starts(first: date, last: date) -> list[date]:
    months = []
    current = first.replace(day=1)
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def ensure_partitions(first: date | None = None, months_ahead: int = MONTHS_AHEAD) -> int:
    """Create the partitions from `first`'s month (default: this month) to some months ahead
    of now (or `first`'s month alone when that is further); returns how many were created.
    Idempotent."""
    today = datetime.now(UTC).date()
    last = month_starts(today, today)[0]
    for _ in range(months_ahead):
        last = month_starts(last, date(last.year + 1, 1, 1))[1]
    created = 0
    with connection.cursor() as cursor:
        for month in month_starts(first or today, max(last, first or today)):
            cursor.execute("SELECT rankings_generation_partition(%s)", [month])
            created += bool(cursor.fetchone()[0])
    return created


def partitions() -> list[str]:
    """The monthly partitions attached now, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'rankings_generation'::regclass"
            " AND c.relname <> 'rankings_generation_default' ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def detach_before(month: date) -> list[str]:
    """Detach (not drop) the partitions of months before `month`; returns their names.

    The detached tables stay in the database as plain tables, to archive or drop at will.
    """
    cutoff = f"rankings_generation_{month:%Y_%m}"
    detached = [name for name in partitions() if name < cutoff]
    with connection.cursor() as cursor:
        for name in detached:
            cursor.execute(f'ALTER TABLE rankings_generation DETACH PARTITION "{name}"')
    return detached
