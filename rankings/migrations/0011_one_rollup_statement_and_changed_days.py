"""The rollup triggers read each batch once and upsert every rollup in one statement; they
mark the days they change, so refresh_rankings rebuilds only those days' daily tables.

Rollup rows are updated in place many times an hour: room on their pages (fillfactor) lets
Postgres update them without new index entries (HOT updates).
"""

from django.db import migrations, models

from rankings.rollup_sql import functions

ROLLUPS = ["rankings_hourlyusage", "rankings_accountdailyusage", "rankings_hourlycategoryusage",
           "rankings_app"]

# Every day with rollups, once: the first refresh rebuilds them all.
MARK_ALL_DAYS = """
INSERT INTO rankings_changedday (day)
SELECT DISTINCT (hour AT TIME ZONE 'UTC')::date FROM rankings_hourlyusage
"""


class Migration(migrations.Migration):
    dependencies = [("rankings", "0010_move_generations_to_usage")]

    operations = [
        migrations.CreateModel(
            name="ChangedDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
            ],
        ),
        migrations.RunSQL(MARK_ALL_DAYS, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (fillfactor = 70)" for table in ROLLUPS],
            reverse_sql=[f"ALTER TABLE {table} RESET (fillfactor)" for table in ROLLUPS],
        ),
        migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop),
    ]
