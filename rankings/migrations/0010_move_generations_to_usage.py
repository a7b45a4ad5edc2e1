"""Generation and DeadLetter move to the usage app (the usage log's home): in Django's state
only. The tables keep their names, partitions, indexes and triggers; nothing in the database
changes (usage/migrations/0002 adds them to the usage app's state)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rankings", "0009_generation_parent_and_virtual"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DeadLetter"),
                migrations.DeleteModel(name="Generation"),
            ],
            database_operations=[],
        ),
    ]
