"""Generation and DeadLetter, moved from the rankings app, in Django's state only: the tables
(rankings_generation, partitioned by month, with its rollup triggers; rankings_deadletter)
exist already and keep their names."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0001_generation_content"),
        ("rankings", "0010_move_generations_to_usage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DeadLetter",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("entry_id", models.CharField(max_length=64, unique=True)),
                        ("raw", models.TextField(blank=True)),
                        ("error", models.TextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "rankings_deadletter",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Generation",
                    fields=[
                        ("id", models.CharField(max_length=100, primary_key=True, serialize=False)),
                        ("key_id", models.BigIntegerField(blank=True, null=True)),
                        ("key_hash", models.TextField(blank=True)),
                        ("model", models.TextField()),
                        ("endpoint_id", models.BigIntegerField(blank=True, null=True)),
                        ("provider", models.TextField(blank=True)),
                        ("provider_name", models.TextField(blank=True)),
                        ("api_type", models.TextField(default="completions")),
                        ("streamed", models.BooleanField(default=False)),
                        ("cancelled", models.BooleanField(default=False)),
                        ("status", models.IntegerField(default=200)),
                        ("finish_reason", models.TextField(blank=True)),
                        ("native_finish_reason", models.TextField(blank=True)),
                        ("tokens_prompt", models.BigIntegerField(default=0)),
                        ("tokens_completion", models.BigIntegerField(default=0)),
                        ("tokens_reasoning", models.BigIntegerField(default=0)),
                        ("tokens_cached", models.BigIntegerField(default=0)),
                        ("cost", models.DecimalField(decimal_places=9, max_digits=20)),
                        ("latency_ms", models.IntegerField(blank=True, null=True)),
                        ("ttft_ms", models.IntegerField(blank=True, null=True)),
                        ("generation_time_ms", models.IntegerField(blank=True, null=True)),
                        ("throughput", models.FloatField(blank=True, null=True)),
                        ("http_referer", models.TextField(blank=True)),
                        ("app_title", models.TextField(blank=True)),
                        (
                            "app_categories",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.TextField(), blank=True, default=list, size=None
                            ),
                        ),
                        ("external_user", models.TextField(blank=True)),
                        ("session_id", models.TextField(blank=True)),
                        ("upstream_id", models.TextField(blank=True)),
                        ("service_tier", models.TextField(blank=True)),
                        ("provider_responses", models.JSONField(blank=True, null=True)),
                        ("parent_id", models.CharField(blank=True, max_length=100, null=True)),
                        ("virtual", models.BooleanField(db_default=False, default=False)),
                        ("created_at", models.DateTimeField()),
                        ("recorded_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="generations",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "rankings_generation",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["user", "-created_at"], name="generation_user_created"
                            ),
                            models.Index(
                                fields=["key_id", "-created_at"], name="generation_key_created"
                            ),
                            models.Index(
                                fields=["model", "created_at"], name="generation_model_created"
                            ),
                            models.Index(fields=["created_at"], name="generation_created"),
                            models.Index(
                                condition=models.Q(("parent_id__isnull", False)),
                                fields=["parent_id"],
                                name="generation_parent",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
