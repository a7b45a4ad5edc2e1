"""Hourly rollups by (model, provider, app, account), without the key; an account's days by
key in their own small table (what /activity reads).

Existing rollups are carried over: the account days are summed from the hourly rows (which
still have the key), then the hourly rows of different keys are merged.
"""

from django.db import migrations, models

from rankings.rollup_sql import functions

SUMS = (
    "sum(requests), sum(errors), sum(tokens_prompt), sum(tokens_completion),"
    " sum(tokens_reasoning), sum(tokens_cached), sum(cost), sum(latency_ms_sum),"
    " sum(latency_count), sum(ttft_ms_sum), sum(ttft_count), sum(throughput_sum),"
    " sum(throughput_count), sum(finish_length), sum(finish_content_filter),"
    " sum(finish_tool_calls)"
)
COLUMNS = (
    "requests, errors, tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, cost,"
    " latency_ms_sum, latency_count, ttft_ms_sum, ttft_count, throughput_sum, throughput_count,"
    " finish_length, finish_content_filter, finish_tool_calls"
)

FILL_ACCOUNT_DAYS = """
INSERT INTO rankings_accountdailyusage (user_id, day, key_id, model, provider, app, requests,
    tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, cost)
SELECT user_id, (hour AT TIME ZONE 'UTC')::date, key_id, model, provider, app, sum(requests),
    sum(tokens_prompt), sum(tokens_completion), sum(tokens_reasoning), sum(tokens_cached),
    sum(cost)
FROM rankings_hourlyusage GROUP BY 1, 2, 3, 4, 5, 6
"""

MERGE_KEYS = f"""
CREATE TEMPORARY TABLE hourly_merged (hour, model, provider, app, user_id, {COLUMNS})
    ON COMMIT DROP AS
    SELECT hour, model, provider, app, user_id, {SUMS}
    FROM rankings_hourlyusage GROUP BY 1, 2, 3, 4, 5;
DELETE FROM rankings_hourlyusage;
INSERT INTO rankings_hourlyusage (hour, model, provider, app, user_id, {COLUMNS})
    SELECT * FROM hourly_merged;
"""  # noqa: S608 (constants only)


class Migration(migrations.Migration):
    dependencies = [("rankings", "0007_prompt_categories_and_app_icons")]

    operations = [
        migrations.CreateModel(
            name="AccountDailyUsage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("user_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("key_id", models.BigIntegerField()),
                ("model", models.TextField()),
                ("provider", models.TextField()),
                ("app", models.TextField()),
                ("requests", models.BigIntegerField(default=0)),
                ("tokens_prompt", models.BigIntegerField(default=0)),
                ("tokens_completion", models.BigIntegerField(default=0)),
                ("tokens_reasoning", models.BigIntegerField(default=0)),
                ("tokens_cached", models.BigIntegerField(default=0)),
                ("cost", models.DecimalField(decimal_places=9, default=0, max_digits=24)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user_id", "day", "key_id", "model", "provider", "app"),
                        name="accountdailyusage_key",
                    )
                ],
            },
        ),
        migrations.RunSQL(FILL_ACCOUNT_DAYS, reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="hourlyusage", name="hourlyusage_key"),
        migrations.RemoveIndex(model_name="hourlyusage", name="hourlyusage_user_hour"),
        migrations.RemoveField(model_name="hourlyusage", name="key_id"),
        migrations.RunSQL(MERGE_KEYS, reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="hourlyusage",
            constraint=models.UniqueConstraint(
                fields=("hour", "model", "provider", "app", "user_id"), name="hourlyusage_key"
            ),
        ),
        migrations.RunSQL(functions(), reverse_sql=migrations.RunSQL.noop),
    ]
