"""Reconciling keys sums their generations by key hash: an index serves it on every partition
(rankings/migrations/0013), instead of a read of the whole generation table."""

import pytest
from django.db import connection
from django.db.models import Sum

from usage.models import Generation

pytestmark = pytest.mark.django_db


def test_the_key_hash_filter_is_served_by_an_index() -> None:
    hashes = [f"{n:064x}" for n in range(150)]  # more than a partial index could be proven for
    query = (Generation.objects.filter(key_hash__in=hashes).values("key_hash")
             .annotate(total=Sum("cost")))
    with connection.cursor() as cursor:
        # The tables are empty: forbid full scans so the plan shows what an index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = query.explain()
    assert "generation_key_hash" in plan or "key_hash_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
