"""An index on the generations' key hash: reconciling a key's Redis counters sums its
generations by hash (accounts/reconcile.py), which otherwise reads every partition in full.

Created on the partitioned parent, so every partition, present and future, has it. Not partial:
the reconciler asks for a list of hashes, and Postgres proves a partial index's condition from
such a list only up to 100 entries.
"""

from django.db import migrations

INDEX = "CREATE INDEX IF NOT EXISTS generation_key_hash ON rankings_generation (key_hash)"


class Migration(migrations.Migration):
    dependencies = [("rankings", "0012_account_model_days_and_byok_usage")]

    operations = [
        migrations.RunSQL(INDEX, reverse_sql="DROP INDEX IF EXISTS generation_key_hash"),
    ]
