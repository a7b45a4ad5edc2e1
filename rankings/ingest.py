"""Generations into the generation table fast: one lookup and one COPY per batch.

The metering consumer stores batches of about a thousand generations many times a second.
Django's bulk_create builds one huge INSERT with a parameter per value, which Postgres parses
and plans every time, and a model instance per row costs more than the insert itself. Here the
batch's column values are streamed with COPY straight into the (partitioned) table:

- the rollup triggers see the COPY as one statement (one grouped upsert per rollup);
- a re-delivered event (same id, same created_at) is left out by one lookup of the batch's ids
  before the COPY. Two consumers storing the same entry at the same instant (a claim racing
  a slow consumer) collide on the primary key instead: the caller's transaction fails with an
  IntegrityError and the batch is stored again, when the lookup sees the other's row;
- the caller learns which generations were new.
"""

import re
from collections.abc import Sequence
from functools import cache
from operator import itemgetter
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from usage.models import Generation

_FIELDS = [f.attname for f in Generation._meta.concrete_fields]
_COLUMNS = ", ".join(f.column for f in Generation._meta.concrete_fields)
_TABLE = Generation._meta.db_table
_VALUES = itemgetter(*_FIELDS)
_JSON = _FIELDS.index("provider_responses")
_CATEGORIES = _FIELDS.index("app_categories")


@cache
def _copy_types() -> list[str]:
    """The columns' Postgres types without modifiers ("varchar", "numeric"): told the types,
    psycopg picks each value's dumper once per batch instead of once per value. The categories
    go as array text (_array_text): psycopg's list dumper costs more than the rest of a row."""
    types = [re.sub(r"\(.*?\)", "", field.db_type(connection) or "").strip()
             for field in Generation._meta.concrete_fields]
    types[_CATEGORIES] = "text"
    return types


def _array_text(items: list[str]) -> str:
    """A text[] value as Postgres reads it: every element quoted, backslashes and quotes
    escaped (COPY then escapes the whole field for its own format)."""
    if not items:
        return "{}"
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for item in items) + "}"


_STORED = (
    f"SELECT id FROM {_TABLE}"  # noqa: S608
    " WHERE id = ANY(%s) AND created_at BETWEEN %s AND %s"
)


def insert_generations(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the generations (column values by attribute name, as usage.events.columns gives
    them) that are not stored yet; returns those that were new.

    Call it inside the caller's transaction (the triggers' rollups commit with the rows).
    """
    if not rows:
        return []
    # psycopg's own cursor (for COPY), its errors turned into Django's as for any query.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        # The time bounds let Postgres look only at the partitions the batch falls in.
        times = [row["created_at"] for row in rows]
        raw.execute(_STORED, [[row["id"] for row in rows], min(times), max(times)])
        stored = {found for (found,) in raw.fetchall()}
        new = [row for row in {row["id"]: row for row in rows}.values()
               if row["id"] not in stored]
        now = timezone.now()
        with raw.copy(f"COPY {_TABLE} ({_COLUMNS}) FROM STDIN") as copy:
            copy.set_types(_copy_types())
            for row in new:
                row.setdefault("recorded_at", now)
                values = list(_VALUES(row))
                if values[_JSON] is not None:
                    values[_JSON] = Jsonb(values[_JSON])
                values[_CATEGORIES] = _array_text(values[_CATEGORIES])
                copy.write_row(values)
    return new
