"""Generations into the generation table fast: one COPY and one INSERT per batch.

The metering consumer stores batches of about a thousand generations many times a second.
Django's bulk_create builds one huge INSERT with a parameter per value, which Postgres parses
and plans every time; here the batch is streamed with COPY into a temporary table of the
same columns, then moved with one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, so that

- the rollup triggers still see the batch as one statement (one grouped upsert per rollup);
- a re-delivered event (same id, same created_at) is skipped, as before;
- the caller learns which generations were new.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from usage.models import Generation

_FIELDS = list(Generation._meta.concrete_fields)
_COLUMNS = ", ".join(f.column for f in _FIELDS)
# Named after its columns: a connection that outlives a migration adding a column gets a new
# table rather than a COPY into one that lacks it.
_STAGE = "generation_batch_" + hashlib.sha1(_COLUMNS.encode()).hexdigest()[:10]  # noqa: S324
_MOVE = (
    f"INSERT INTO rankings_generation ({_COLUMNS}) SELECT {_COLUMNS} FROM {_STAGE}"  # noqa: S608
    " ON CONFLICT DO NOTHING RETURNING id"
)


def insert_generations(generations: Sequence[Generation]) -> set[str]:
    """Insert the generations that are not stored yet; returns the ids that were new.

    Call it inside the caller's transaction (the triggers' rollups commit with the rows).
    """
    if not generations:
        return set()
    # psycopg's own cursor (for COPY), its errors turned into Django's as for any query.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        raw.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE}"
            f" (LIKE rankings_generation INCLUDING DEFAULTS)"
        )
        now = timezone.now()
        with raw.copy(f"COPY {_STAGE} ({_COLUMNS}) FROM STDIN") as copy:
            for generation in generations:
                copy.write_row(_row(generation, now))
        raw.execute(_MOVE)
        new = {row[0] for row in raw.fetchall()}
        # Emptied now, not ON COMMIT (the caller's transaction may span batches), and by
        # TRUNCATE: nothing vacuums temporary tables, deleted rows would pile up.
        raw.execute(f"TRUNCATE {_STAGE}")
    return new


def _row(generation: Generation, now: datetime) -> list[object]:
    row: list[object] = []
    for field in _FIELDS:
        value = getattr(generation, field.attname)
        if field.attname == "recorded_at" and value is None:
            value = generation.recorded_at = now
        elif field.attname == "provider_responses" and value is not None:
            value = Jsonb(value)
        row.append(value)
    return row
