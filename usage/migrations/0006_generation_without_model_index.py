"""Nothing reads generations by model over time (the pages read the rollups), and the index
was the largest on the table, paid by every metering batch."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("usage", "0005_generation_user_index_covered"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="generation", name="generation_model_created"),
    ]
