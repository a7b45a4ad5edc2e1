"""The suite runs against real servers: prove both answer."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgres_is_a_real_server() -> None:
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        (version,) = cursor.fetchone()
    assert connection.vendor == "postgresql"
    assert version.startswith("PostgreSQL")


def test_redis_is_a_real_server(redis_client) -> None:
    redis_client.set("probe", "42")
    assert redis_client.get("probe") == b"42"
    assert redis_client.info("server")["redis_version"]
