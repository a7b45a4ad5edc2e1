"""Tokens per UTC day, model and prompt-size bucket: the rankings-daily `context_bucket` filter.

The hourly rollups do not keep prompt sizes, so this table is built from the raw generations,
but only for the days whose totals disagree with the per-day model totals (`ModelDaily`, exact
from the rollups): a first run fills every day, later runs redo only days that received rows
(today, late rows, seeded history). Days whose raw partitions were detached keep their rows.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection

BUCKETS = ["1K", "10K", "100K", "1M", "10M"]  # prompt tokens below 1K, 10K, … ; 10M: the rest

_STALE_DAYS = """
WITH want AS (SELECT day, sum(tokens) AS tokens FROM rankings_modeldaily GROUP BY day),
have AS (SELECT day, sum(tokens) AS tokens FROM rankings_contextbucketdaily GROUP BY day)
SELECT day FROM want FULL JOIN have USING (day) WHERE want.tokens IS DISTINCT FROM have.tokens
ORDER BY day
"""

_REBUILD = """
INSERT INTO rankings_contextbucketdaily (day, model, bucket, tokens)
SELECT (created_at AT TIME ZONE 'UTC')::date, model,
    CASE WHEN tokens_prompt < 1000 THEN '1K' WHEN tokens_prompt < 10000 THEN '10K'
         WHEN tokens_prompt < 100000 THEN '100K' WHEN tokens_prompt < 1000000 THEN '1M'
         ELSE '10M' END,
    sum(tokens_prompt + tokens_completion)
FROM rankings_generation
WHERE created_at >= %(start)s AND created_at < %(end)s
    AND (created_at AT TIME ZONE 'UTC')::date = ANY(%(days)s)
GROUP BY 1, 2, 3
"""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def refresh_context_buckets() -> list[date]:
    """Rebuilds the days that disagree with the rollups; returns them."""
    with connection.cursor() as cursor:
        cursor.execute(_STALE_DAYS)
        days = [row[0] for row in cursor.fetchall()]
        if not days:
            return []
        cursor.execute("DELETE FROM rankings_contextbucketdaily WHERE day = ANY(%s)", [days])
        cursor.execute(_REBUILD, {"start": _midnight(days[0]),
                                  "end": _midnight(days[-1] + timedelta(days=1)), "days": days})
    return days
