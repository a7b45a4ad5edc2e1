import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Drop the index on user alone: generation_user_created (user, -created_at) serves every
    lookup by user. Only the index goes; Django's own AlterField would also drop and re-add the
    foreign key, which re-checks every row of a table of years."""

    dependencies = [
        ("usage", "0004_generation_byok_usage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="generation",
                    name="user",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="generations", to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS rankings_generation_user_id",
                    "CREATE INDEX IF NOT EXISTS rankings_generation_user_id"
                    " ON rankings_generation (user_id)",
                ),
            ],
        ),
    ]
