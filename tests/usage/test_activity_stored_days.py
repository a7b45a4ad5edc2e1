"""GET /api/v1/activity stores each completed day's answer once, and a late generation (or a
deleted one) in a stored day makes the next answer count it."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from rankings.models import AccountActivityDay
from rankings.rollup_sql import ACTIVITY_LOCK
from tests.usage.conftest import key_row, store, yesterday
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(make_key):
    key = make_key("ada@example.com", name="laptop", credits="5")
    admin = make_key("ada@example.com", name="admin", management=True)
    return key_row(key), admin


def requests_per_day(client, admin: str) -> dict[str, int]:
    answer = client.get("/api/v1/activity", HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert answer.status_code == 200
    return {row["date"]: row["requests"] for row in answer.json()["data"]}


def test_a_stored_day_is_answered_from_its_row_and_a_late_generation_updates_it(client, ada):
    key, admin = ada
    day, earlier = yesterday(), yesterday() - timedelta(days=2)
    store(1, key)
    store(2, key, created_at=earlier)
    first = requests_per_day(client, admin)
    assert first == {day.date().isoformat(): 1, earlier.date().isoformat(): 1}
    # Every day of the window has its answer now, the empty ones too; today has none.
    assert AccountActivityDay.objects.count() == 30
    assert not AccountActivityDay.objects.filter(day__gte=day.date() + timedelta(days=1))

    store(3, key, created_at=earlier + timedelta(hours=1))  # a late generation
    assert not AccountActivityDay.objects.filter(day=earlier.date()).exists()
    assert requests_per_day(client, admin)[earlier.date().isoformat()] == 2

    Generation.objects.filter(id__endswith="-1").delete()  # taken back
    assert requests_per_day(client, admin) == {earlier.date().isoformat(): 2}


def test_traffic_of_today_leaves_the_stored_days_alone(client, ada):
    key, admin = ada
    store(1, key)
    requests_per_day(client, admin)
    stored = AccountActivityDay.objects.count()
    store(2, key, created_at=yesterday() + timedelta(days=1))
    assert AccountActivityDay.objects.count() == stored


def test_a_late_generation_waits_for_an_answer_being_stored(client, ada):
    """The answer is computed and stored under the account's lock; a late generation that
    commits meanwhile waits for it and then drops it, so no stale answer survives."""
    key, admin = ada
    day = yesterday()
    store(1, key, cost=Decimal("0.001"))
    with connection.cursor() as cursor:  # the API's writer holds the account's lock
        cursor.execute("BEGIN")
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s::int)", [ACTIVITY_LOCK, key.user_id])
        def store_late() -> None:
            store(2, key, created_at=day)
            connection.close()

        late = threading.Thread(target=store_late)
        late.start()
        late.join(timeout=1)
        assert late.is_alive()  # the late generation's trigger waits for the lock
        AccountActivityDay.objects.create(user_id=key.user_id, day=day.date(),
                                          catalog_stamp="x", items=b"[]")
        cursor.execute("COMMIT")
    late.join(timeout=30)
    assert not late.is_alive()
    assert not AccountActivityDay.objects.filter(day=day.date()).exists()
    assert requests_per_day(client, admin) == {day.date().isoformat(): 2}
