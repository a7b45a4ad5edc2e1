"""The rollup functions compute each distinct referer's app once per statement, and the
app-origin function is one inlinable expression (faster ingest)."""

from django.db import migrations

from rankings.rollup_sql import functions


class Migration(migrations.Migration):
    dependencies = [("rankings", "0005_fewer_rollup_indexes")]

    operations = [migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop)]
