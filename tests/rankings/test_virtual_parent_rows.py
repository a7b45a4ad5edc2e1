"""A mixture's own generation row (virtual: no tokens or cost of its own) is left out of every
rollup; its sub-generations count as the real models they are. The rollups still equal a
direct GROUP BY over the generations that count."""

import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from rankings.models import AccountDailyUsage, HourlyCategoryUsage, HourlyUsage
from tests.rankings.test_rollup_triggers import assert_exact, generation
from usage.models import Generation

MIXTURE = "openmarket/moa-open-lite"


def parent(rng: random.Random, user_id: int | None, number: int) -> Generation:
    row = generation(rng, user_id, number, virtual=True)
    row.model, row.provider, row.endpoint_id = MIXTURE, "", None
    row.tokens_prompt = row.tokens_completion = row.tokens_reasoning = row.tokens_cached = 0
    row.cost = Decimal(0)
    return row


@pytest.mark.django_db
def test_virtual_parents_are_not_rolled_up_and_rollups_match_group_by() -> None:
    rng = random.Random(5)
    user = User.objects.create_user("mixture-user")
    rows: list[Generation] = []
    for n in range(200):
        owner = rng.choice([user.pk, None])
        top = parent(rng, owner, 10_000 + n)
        rows.append(top)
        rows += [generation(rng, owner, 20_000 + n * 4 + i, parent_id=top.id) for i in range(3)]
        rows.append(generation(rng, owner, 30_000 + n))  # a plain call beside it
    rng.shuffle(rows)
    for start in range(0, len(rows), 137):
        Generation.objects.bulk_create(rows[start:start + 137], ignore_conflicts=True)
    Generation.objects.bulk_create(rows[:50], ignore_conflicts=True)  # re-delivered

    for table in (HourlyUsage, AccountDailyUsage, HourlyCategoryUsage):
        assert not table.objects.filter(model=MIXTURE).exists()
    assert HourlyUsage.objects.exists()
    # Deleting the parents changes no rollup (they were never counted); what is left, the
    # generations that count, equals the rollups exactly.
    Generation.objects.filter(virtual=True).delete()
    assert_exact()
    Generation.objects.filter(parent_id__isnull=False, user_id=user.pk).delete()
    assert_exact()
