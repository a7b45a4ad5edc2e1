"""Generations partitioned by month; statement triggers keep the hourly rollups.

The SQL lives in rankings/sql/ (see rankings/rollup_sql.py). Django keeps believing `id` alone
is the primary key (true for lookups: a generation id is unique), while Postgres needs the
partition key in it: (id, created_at). A re-delivered event carries the same created_at, so
ON CONFLICT DO NOTHING still skips it.
"""

from django.db import migrations

from rankings.rollup_sql import sql, triggers


class Migration(migrations.Migration):
    dependencies = [("rankings", "0003_rollups_and_snapshots")]

    operations = [
        migrations.RunSQL(sql("partitions.sql"), reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(triggers(), reverse_sql=sql("drop_triggers.sql")),
    ]
