"""BYOK usage toward the monthly free allowance is counted in the settle itself: a settle that
is spooled while Redis is away and replayed (even twice, as after a lost reply) counts the
generation's list price exactly once, together with its charge. And a provider key's
`allowed_user_ids` is applied: a key for other users is not used."""

import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from billing import byok
from gateway import byok as gw_byok
from gateway import keys as gw_keys
from gateway.metering import Hold, Meter
from gateway.redis_client import Redis
from gateway.spool import Spool
from tests.aio import run
from tests.gateway.conftest import account, key_hash, publish_account, publish_key
from tests.payments.test_byok_gateway import OWN_KEY, ask, gateway  # noqa: F401
from tests.payments.test_byok_gateway import account as byok_account

LISTED = 7_000_000  # nano-dollars of list price the provider billed the user
FEE = 350_000


def month_usage(redis_client: Any, user_id: int) -> int:
    return int(redis_client.hget(gw_keys.byok_usage(user_id), gw_byok.month_field()) or 0)


def test_byok_usage_counts_once_with_its_settle(redis_client: Any, tmp_path: Path):
    publish_account(redis_client, user_id=5)
    key = publish_key(redis_client, user_id=5)

    async def scenario() -> None:
        spool = Spool(tmp_path)
        # Redis is away when the generation ends: the settle goes to the spool.
        dead = Meter(Redis.from_url("redis://127.0.0.1:1/0", timeout=0.2), 3600, spool)
        live = Meter(Redis.from_url(settings.REDIS_URL), 3600, spool)
        hold = Hold("gen-byok-1", "5", key_hash(key))
        await live.reserve(hold, 1_000_000, None, "", max_tokens=1, completion_price_nanos=1)
        await dead.settle(hold, FEE, "gen-byok-1", b'{"id": "gen-byok-1"}',
                          byok_listed_nanos=LISTED)
        assert month_usage(redis_client, 5) == 0
        # The gateway restarts and replays its spool; a second copy (a reply lost after the
        # first replay ran) changes nothing.
        (line,) = (tmp_path / name for name in [p.name for p in tmp_path.iterdir()])
        copy = line.read_bytes()
        assert await spool.replay(live.replay) == 1
        line.write_bytes(copy)
        await spool.replay(live.replay)
        await live.redis.aclose()

    run(scenario())
    assert month_usage(redis_client, 5) == LISTED
    state = account(redis_client, 5)
    assert state["spent"] == FEE and state["reserved"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_key_for_other_users_is_not_used(gateway):  # noqa: F811
    key = byok_account("ada@example.com", OWN_KEY)
    ada = User.objects.get(email="ada@example.com")
    own = byok.live_keys(ada.pk).get()
    byok.update(own, allowed_user_ids=["999999"])
    byok.publish(ada.pk)
    answer = ask(gateway, key, {"order": ["openai", "azure"]})
    assert answer["usage"]["is_byok"] is False and answer["provider"] != "OpenAI"

    byok.update(own, allowed_user_ids=[str(ada.pk)])
    byok.publish(ada.pk)
    time.sleep(0.6)  # the gateway caches a key's record for half a second
    answer = ask(gateway, key, {"order": ["openai", "azure"]})
    assert answer["usage"]["is_byok"] is True and answer["provider"] == "OpenAI"
