"""The ledger holds every movement of money and a balance per account.

The old `reference` (unique) is copied into the idempotency key and stays as a search field;
usage charges of generations already stored are written as ledger rows, and balances are
summed from the rows once.
"""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


def backfill(apps, schema_editor):
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    Balance = apps.get_model("billing", "Balance")
    Generation = apps.get_model("rankings", "Generation")
    charged = Generation.objects.filter(user__isnull=False, cost__gt=0)
    batch = []
    for gen in charged.values("id", "user_id", "cost", "created_at").iterator(chunk_size=5000):
        batch.append(
            LedgerEntry(
                user_id=gen["user_id"],
                amount=-gen["cost"],
                kind="usage",
                idempotency_key=f"gen:{gen['id']}",
                reference=gen["id"],
            )
        )
        if len(batch) >= 5000:
            LedgerEntry.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    LedgerEntry.objects.bulk_create(batch, ignore_conflicts=True)
    sums: dict[int, dict[str, Decimal]] = {}
    for entry in LedgerEntry.objects.values("user_id", "kind", "amount").iterator():
        row = sums.setdefault(
            entry["user_id"],
            {k: Decimal(0) for k in ("credits", "purchased", "promotional", "usage")},
        )
        amount, kind = entry["amount"], entry["kind"]
        if kind == "usage":
            row["usage"] -= amount
            continue
        row["credits"] += amount
        if kind in ("purchase", "refund"):
            row["purchased"] += amount
        if kind == "promo":
            row["promotional"] += amount
    Balance.objects.bulk_create(Balance(user_id=uid, **row) for uid, row in sums.items())


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_ledger"),
        ("rankings", "0002_generation_deadletter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="idempotency_key",
            field=models.CharField(max_length=200, null=True),
        ),
        migrations.RunSQL(
            "update billing_ledgerentry set idempotency_key = reference", migrations.RunSQL.noop
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="idempotency_key",
            field=models.CharField(max_length=200, unique=True),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="reference",
            field=models.CharField(blank=True, db_index=True, max_length=200),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="memo",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("purchase", "Purchase"),
                    ("promo", "Promotional grant"),
                    ("usage", "Usage charge"),
                    ("refund", "Refund"),
                    ("adjustment", "Manual adjustment"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True),
        ),
        migrations.AlterModelOptions(
            name="ledgerentry",
            options={"ordering": ["-created_at", "-id"], "verbose_name_plural": "ledger entries"},
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                name="ledger_sign_follows_kind",
                condition=(
                    Q(kind__in=["purchase", "promo"], amount__gt=0)
                    | Q(kind__in=["usage", "refund"], amount__lt=0)
                    | (Q(kind="adjustment") & ~Q(amount=0))
                ),
            ),
        ),
        migrations.CreateModel(
            name="Balance",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="balance",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "credits",
                    models.DecimalField(default=Decimal(0), max_digits=20, decimal_places=9),
                ),
                (
                    "purchased",
                    models.DecimalField(default=Decimal(0), max_digits=20, decimal_places=9),
                ),
                (
                    "promotional",
                    models.DecimalField(default=Decimal(0), max_digits=20, decimal_places=9),
                ),
                ("usage", models.DecimalField(default=Decimal(0), max_digits=20, decimal_places=9)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
