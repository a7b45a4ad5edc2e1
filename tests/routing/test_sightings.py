"""A provider's first new error type or finish reason reaches the operators once: a row in
the admin list, a log line and an e-mail."""

import logging
import time
from typing import Any

from django.core import mail

from marketplace import sightings
from marketplace.models import ProviderSighting
from simulator.testing import set_knobs
from tests.gateway.conftest import LLAMA, World

HELLO = [{"role": "user", "content": "hello"}]


def test_new_errors_and_finish_reasons_are_announced_once(world: World, db: None,
                                                          settings: Any, caplog: Any):
    settings.ADMINS = [("Ops", "ops@example.com")]
    set_knobs(world.sim, "deepinfra", error_rate=1.0, error_statuses=[529])
    client = world.client()
    for _ in range(2):
        client.chat.completions.create(model=LLAMA, messages=HELLO, max_tokens=5,
                                       extra_body={"provider": {"order": ["deepinfra"]}})
    time.sleep(0.2)  # written in the background after the response
    fields = {f.decode() for f in world.redis.hkeys("gw:sightings")}
    assert "deepinfra|error|http 529" in fields
    assert "together|finish_reason|stop" in fields or "together|finish_reason|length" in fields

    with caplog.at_level(logging.WARNING, logger="marketplace.sightings"):
        created = sightings.collect()
    assert {(s.provider_slug, s.kind, s.value) for s in created} >= {
        ("deepinfra", "error", "http 529")}
    assert any("deepinfra" in r.getMessage() and "http 529" in r.getMessage()
               for r in caplog.records)
    assert any("deepinfra" in m.subject for m in mail.outbox)
    before = len(mail.outbox)
    assert sightings.collect() == []  # already announced
    assert len(mail.outbox) == before
    assert ProviderSighting.objects.filter(provider_slug="deepinfra").count() == 1


def test_the_admin_lists_sightings(admin_client: Any):
    from datetime import UTC, datetime
    ProviderSighting.objects.create(provider_slug="acme", kind="finish_reason",
                                    value="content_filter", first_seen=datetime.now(UTC))
    page = admin_client.get("/admin/marketplace/providersighting/")
    assert page.status_code == 200 and b"content_filter" in page.content
