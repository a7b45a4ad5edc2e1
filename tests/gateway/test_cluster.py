# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""The whole money path on a real Redis Cluster: three masters on loopback, the Django side
publishing accounts and keys to it, completions through the gateway, the meter persisting the
usage streams into Postgres, the hold sweeper and reconcile_balances."""

import importlib.util
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.keys import create_key
from accounts.publish import publish_all
from billing.holds import release_expired
from billing.ledger import balance, grant_credits
from config import gateway_state
from config.redis import get_redis
from gateway.app import Gateway
from gateway.config import Settings
from simulator.testing import set_knobs
from tests.gateway.conftest import LLAMA, OPENAI_MODEL, default_models, publish_catalog
from tests.gateway.redis_servers import redis_cluster
from tests.servers import serve_asgi
from usage.metering import Consumer
from usage.models import Generation


def chat(url: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + "/api/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key}"})


@pytest.mark.django_db(transaction=True)
def test_completions_metering_sweeper_and_reconcile_on_a_redis_cluster(
        sim: str, tmp_path: Path, settings: Any) -> None:
    with redis_cluster(3) as nodes:
        settings.REDIS_URL = nodes[0].url(0)
        settings.REDIS_CLUSTER = True
        cluster = get_redis()
        # Accounts in several shards, hence on several nodes.
        users = [User.objects.create_user(f"u{i}", f"u{i}@example.com", "pw-123456789")
                 for i in range(4)]
        keys = {}
        for user in users:
            grant_credits(user, Decimal("5"), "promo", f"welcome-{user.pk}")
            keys[user.pk] = create_key(user, "cluster").key
        publish_catalog(cluster, default_models(sim))
        publish_all()
        owners = {cluster.cluster_keyslot(gateway_state.account(u.pk)) for u in users}
        assert len({cluster.get_node_from_key(gateway_state.account(u.pk)).port
                    for u in users}) > 1, owners

        seeds = ",".join(f"127.0.0.1:{n.port}" for n in nodes[1:])
        gateway = Gateway(Settings(redis_url=f"redis://{seeds}/0", redis_cluster=True,
                                   spool_dir=str(tmp_path), hold_lifetime=1.0))
        set_knobs(sim, "deepinfra", tokens_per_second=40)
        with serve_asgi(gateway) as url:
            body = {"model": OPENAI_MODEL, "max_tokens": 40,
                    "messages": [{"role": "user", "content": "[sim:tokens=8] hi"}]}
            for user in users:
                for _ in range(3):
                    answer = chat(url, keys[user.pk], body)
                    assert answer.status_code == 200, answer.text

            # A stream that outlives its hold's 1 s deadline: the sweeper releases the hold
            # meanwhile, and the settle still charges the real cost, once.
            slow = {"model": LLAMA, "stream": True, "provider": {"order": ["deepinfra"]},
                    "max_tokens": 200, "messages": [{"role": "user",
                                                     "content": "[sim:tokens=80] go"}]}
            streamed: list[httpx.Response] = []
            thread = threading.Thread(target=lambda: streamed.append(
                chat(url, keys[users[0].pk], slow)))
            thread.start()
            time.sleep(1.5)
            assert release_expired(cluster).holds == 1
            thread.join(timeout=30)
            assert streamed[0].status_code == 200 and "[DONE]" in streamed[0].text

        assert Consumer(cluster, name="cluster-meter").drain() == 13
        assert Generation.objects.count() == 13
        for user in users:
            state = cluster.hmget(gateway_state.account(user.pk), ["spent", "reserved"])
            spent = int(state[0])
            assert spent > 0 and int(state[1]) == 0
            assert Decimal(spent) / 10**9 == balance(user.pk).usage

        if importlib.util.find_spec("accounts.reconcile") is not None:
            call_command("reconcile_balances")  # exits 1 (SystemExit) on any drift
