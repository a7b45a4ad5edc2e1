"""Operators find generations and dead letters in the admin: search, filters, no N+1."""

from django.contrib.auth.models import User
from django.test import Client

from tests.usage.conftest import stream_of, usage_event
from usage.models import DeadLetter


def test_generations_are_searchable_and_filterable(
    client: Client, ada: User, bob: User, publish, meter, django_assert_max_num_queries
) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-123456")
    for i in range(30):
        publish(usage_event((ada if i % 2 else bob).pk, status=200 if i % 3 else 502))
    wanted = publish(usage_event(ada.pk, model="mistralai/mistral-small", upstream_id="up-42"))
    meter()
    client.force_login(admin)

    with django_assert_max_num_queries(12):
        listing = client.get("/admin/usage/generation/")
    searched = client.get("/admin/usage/generation/", {"q": "mistral-small"})
    failed = client.get("/admin/usage/generation/", {"status__exact": "502"})
    detail = client.get(f"/admin/usage/generation/{wanted['id']}/change/")

    assert listing.status_code == 200
    assert "31 generations" in listing.content.decode()
    assert wanted["id"] in searched.content.decode()
    assert "1 generation" in searched.content.decode()
    assert "10 generations" in failed.content.decode()
    assert detail.status_code == 200 and "up-42" in detail.content.decode()
    assert client.get("/admin/usage/generation/add/").status_code == 403


def test_dead_letters_show_their_raw_text(client: Client, db: None, meter, redis_client) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-123456")
    redis_client.xadd(stream_of(0), {"event": '{"id": "gen-broken"'})
    meter()
    client.force_login(admin)

    page = client.get("/admin/usage/deadletter/", {"q": "gen-broken"})

    assert DeadLetter.objects.count() == 1
    assert "invalid JSON" in page.content.decode()
