"""300 concurrent requests on credit for exactly 100: through the real gateway, the meter and
the ledger, not one nano-dollar is spent that was not there, or charged and not recorded."""

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from accounts.keys import create_key
from billing.ledger import balance, grant_credits
from config import gateway_state
from simulator.testing import set_knobs
from tests.aio import run
from tests.gateway.conftest import OPENAI_MODEL, World
from usage.metering import Consumer
from usage.models import Generation

BODY = {"model": OPENAI_MODEL, "max_tokens": 20,
        "messages": [{"role": "user", "content": "[sim:tokens=20] race"}]}


@pytest.fixture
def gateway_options() -> dict[str, Any]:
    # 300 requests at once on a shared test machine: a Redis reply may take longer than the
    # production deadline, and a 503 is not what this test is about.
    return {"redis_timeout": 5.0}


def many(url: str, key: str, count: int) -> list[int]:
    async def scenario() -> list[int]:
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            async def one() -> int:
                resp = await client.post(url + "/api/v1/chat/completions", json=BODY,
                                         headers={"authorization": f"Bearer {key}"})
                return resp.status_code

            return list(await asyncio.gather(*(one() for _ in range(count))))

    return run(scenario())


@pytest.mark.django_db(transaction=True)
def test_credit_for_100_requests_and_300_sent_at_once(world: World, redis_client: Any) -> None:
    # The price of one request, learnt on the fixture's own account.
    probe = httpx.post(world.url + "/api/v1/chat/completions", json=BODY, timeout=30,
                       headers={"authorization": f"Bearer {world.key}"})
    price = Decimal(str(probe.json()["usage"]["cost"])).quantize(Decimal("1e-9"))
    assert price > 0

    # Not account 1, the fixture's (the probe was charged there).
    User.objects.create_user("first", "first@example.com", "pw-first-1234")
    user = User.objects.create_user("racer", "racer@example.com", "pw-racer-1234")
    assert user.pk != 1
    grant_credits(user, price * 100, "promo", "race")  # published to Redis on commit
    key = create_key(user, "race").key
    set_knobs(world.sim, "openai", ttft_ms=200)  # everything is in flight together

    statuses = many(world.url, key, 300)

    assert set(statuses) <= {200, 402}, statuses
    served = statuses.count(200)
    assert 0 < served <= 100
    account = redis_client.hgetall(gateway_state.account(user.pk))
    spent, credits = int(account[b"spent"]), int(account[b"credits"])
    assert int(account[b"reserved"]) == 0
    assert credits == int(price * 100 * 10**9)
    # Holds are upper bounds of the cost: even in flight together, nothing was overspent.
    assert spent <= credits

    assert Consumer(redis_client, name="race-meter").drain() >= served
    mine = Generation.objects.filter(user_id=user.pk)
    assert mine.count() == served
    persisted = sum((g.cost for g in mine), Decimal(0))
    # Redis, the generations and the ledger agree to the nano-dollar.
    assert Decimal(spent) / 10**9 == persisted == balance(user.pk).usage == price * served
