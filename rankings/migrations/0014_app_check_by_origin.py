from django.db import migrations

from rankings.rollup_sql import functions


class Migration(migrations.Migration):
    """The rollup functions again: the known-app check looks apps up by origin."""

    dependencies = [("rankings", "0013_generation_key_hash_index")]

    operations = [migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop)]
