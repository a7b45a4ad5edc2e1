"""The rollups' natural keys become their primary keys (no surrogate id: an ingest batch's
upserts maintain one index per rollup, not two), and the per-account (day, model, provider)
rollup goes: GET /api/v1/activity stores each completed day's answer, so it sums the account's
daily rollup once per day instead of every ingest batch keeping a third account rollup."""

from django.db import migrations, models

from rankings.rollup_sql import functions

NATURAL_KEYS = {
    "rankings_hourlyusage": ("hourlyusage_key", "hour, model, provider, app, user_id"),
    "rankings_accountdailyusage": ("accountdailyusage_key",
                                   "user_id, day, key_id, model, provider, app"),
    "rankings_hourlycategoryusage": ("hourlycategory_key", "hour, category, model, app"),
}


def to_natural_keys() -> str:
    return "\n".join(
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, DROP CONSTRAINT {unique},"
        f" DROP COLUMN id, ADD CONSTRAINT {table}_pkey PRIMARY KEY ({columns});"
        for table, (unique, columns) in NATURAL_KEYS.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ("rankings", "0015_account_activity_days"),
    ]

    operations = [
        # The trigger functions first: they no longer write the table dropped below.
        migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop),
        migrations.DeleteModel(name="AccountModelDay"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(to_natural_keys())],
            state_operations=[
                migrations.RemoveConstraint(model_name="accountdailyusage",
                                            name="accountdailyusage_key"),
                migrations.RemoveConstraint(model_name="hourlycategoryusage",
                                            name="hourlycategory_key"),
                migrations.RemoveConstraint(model_name="hourlyusage", name="hourlyusage_key"),
                migrations.RemoveField(model_name="accountdailyusage", name="id"),
                migrations.RemoveField(model_name="hourlycategoryusage", name="id"),
                migrations.RemoveField(model_name="hourlyusage", name="id"),
                migrations.AddField(
                    model_name="accountdailyusage",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "user_id", "day", "key_id", "model", "provider", "app", blank=True,
                        editable=False, primary_key=True, serialize=False),
                ),
                migrations.AddField(
                    model_name="hourlycategoryusage",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "hour", "category", "model", "app", blank=True, editable=False,
                        primary_key=True, serialize=False),
                ),
                migrations.AddField(
                    model_name="hourlyusage",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "hour", "model", "provider", "app", "user_id", blank=True,
                        editable=False, primary_key=True, serialize=False),
                ),
            ],
        ),
    ]
