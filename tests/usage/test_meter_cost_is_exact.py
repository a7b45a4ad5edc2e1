"""Money: the stored cost is the event's cost to the nano-dollar, never a float's neighbour."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from tests.usage.conftest import usage_event
from usage.models import Generation


@pytest.mark.parametrize(
    ("cost", "nanos"),
    [
        ("0.000045160", 45160),
        ("0.000000001", 1),  # one nano-dollar: a cheap model's short answer
        ("0.1", 100_000_000),  # 0.1 has no exact binary float
        ("12345.678901234", 12_345_678_901_234),
        ("0", 0),
        ("99999999999.999999999", 99_999_999_999_999_999_999),  # max_digits=20, 9 decimals
    ],
)
def test_cost_is_stored_exactly(ada: User, publish, meter, cost: str, nanos: int) -> None:
    event = publish(usage_event(ada.pk, cost=cost, cost_nanos=nanos))

    meter()

    stored = Generation.objects.get(pk=event["id"]).cost
    assert stored == Decimal(cost)
    assert stored == Decimal(nanos) / 1_000_000_000
    assert stored.as_tuple().exponent == -9  # scale of the column: exact nano-dollars


def test_costs_add_up_to_the_nano_dollar(ada: User, publish, meter) -> None:
    for _ in range(1000):
        publish(usage_event(ada.pk, cost="0.000000001", cost_nanos=1))

    meter()

    from django.db.models import Sum

    assert Generation.objects.aggregate(total=Sum("cost"))["total"] == Decimal("0.000001000")
