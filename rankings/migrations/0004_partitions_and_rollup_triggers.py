"""Generations partitioned by month; statement triggers keep the hourly rollups.

The SQL lives in rankings/sql/ (one file per concern) so that it reads as SQL; this migration
only runs it. Django keeps believing `id` alone is the primary key (true for lookups: a
generation id is unique), while Postgres needs the partition key in it: (id, created_at). A
re-delivered event carries the same created_at, so ON CONFLICT DO NOTHING still skips it.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


def sql(name: str) -> str:
    return (SQL / name).read_text()


def triggers() -> str:
    function = sql("rollup_function.sql")
    functions = "\n".join(
        function.replace("__NAME__", name).replace("__ROWS__", rows).replace("__SIGN__", sign)
        for name, rows, sign in [
            ("insert", "inserted_generations", "1"),
            ("delete", "deleted_generations", "(-1)"),
        ]
    )
    return sql("rollup_triggers.sql").replace("-- __FUNCTIONS__", functions)


class Migration(migrations.Migration):
    dependencies = [("rankings", "0003_rollups_and_snapshots")]

    operations = [
        migrations.RunSQL(sql("partitions.sql"), reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(triggers(), reverse_sql=sql("drop_triggers.sql")),
    ]
