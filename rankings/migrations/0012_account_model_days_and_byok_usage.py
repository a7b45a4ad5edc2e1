"""An account's days per model and provider, without keys and apps (what GET /api/v1/activity
reads), filled from the account-day rollup; both carry the list price of BYOK generations.

The rollup functions are re-created to keep the new table and to sum `byok_usage`. Until now no
generation had a BYOK figure, so 0 is exact for the existing rows.
"""

from django.db import migrations, models

from rankings.rollup_sql import functions

FILL_ACCOUNT_MODEL_DAYS = """
INSERT INTO rankings_accountmodelday (user_id, day, model, provider, requests, tokens_prompt,
    tokens_completion, tokens_reasoning, tokens_cached, cost, byok_usage)
SELECT user_id, day, model, provider, sum(requests), sum(tokens_prompt), sum(tokens_completion),
    sum(tokens_reasoning), sum(tokens_cached), sum(cost), sum(byok_usage)
FROM rankings_accountdailyusage GROUP BY 1, 2, 3, 4
"""


class Migration(migrations.Migration):
    dependencies = [
        ("rankings", "0011_one_rollup_statement_and_changed_days"),
        # The functions read the generations' byok_usage column.
        ("usage", "0004_generation_byok_usage"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountdailyusage",
            name="byok_usage",
            field=models.DecimalField(decimal_places=9, default=0, max_digits=24),
        ),
        migrations.CreateModel(
            name="AccountModelDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("user_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("model", models.TextField()),
                ("provider", models.TextField()),
                ("requests", models.BigIntegerField(default=0)),
                ("tokens_prompt", models.BigIntegerField(default=0)),
                ("tokens_completion", models.BigIntegerField(default=0)),
                ("tokens_reasoning", models.BigIntegerField(default=0)),
                ("tokens_cached", models.BigIntegerField(default=0)),
                ("cost", models.DecimalField(decimal_places=9, default=0, max_digits=24)),
                ("byok_usage", models.DecimalField(decimal_places=9, default=0, max_digits=24)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user_id", "day", "model", "provider"), name="accountmodelday_key"
                    )
                ],
            },
        ),
        migrations.RunSQL(
            "ALTER TABLE rankings_accountmodelday SET (fillfactor = 70)",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(FILL_ACCOUNT_MODEL_DAYS, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop),
    ]
