"""The official openrouter SDK, pointed at us, manages keys and reads credits unmodified."""

import base64
import hashlib
import secrets

import pytest
from openrouter import OpenRouter

from config import gateway_state
from tests.accounts.conftest import row

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, key: str) -> OpenRouter:
    return OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")


def test_current_key_reads_label_limit_and_kind(live_server, ada_key, redis_client):
    usage_key = gateway_state.key_usage(row(ada_key).user_id, row(ada_key).hash)
    redis_client.hset(usage_key, mapping={"total": 1_500_000_000})

    data = sdk(live_server, ada_key).api_keys.get_current_key_metadata().data

    assert data.label == row(ada_key).label
    assert data.label.startswith("sk-or-v1-") and "..." in data.label
    assert data.usage == 1.5
    assert data.limit is None and data.limit_remaining is None
    assert data.is_management_key is False
    assert data.is_free_tier is True  # promotional credit is not a purchase


def test_management_key_lists_creates_updates_and_deletes(live_server, ada_management_key):
    client = sdk(live_server, ada_management_key)

    created = client.api_keys.create(name="CI runner", limit=12.5, limit_reset="monthly")
    assert created.key.startswith("sk-or-v1-") and len(created.key) == 9 + 64
    assert created.data.name == "CI runner"
    assert created.data.limit == 12.5 and created.data.limit_remaining == 12.5
    assert created.data.limit_reset == "monthly"

    listed = client.api_keys.list().data
    assert "CI runner" in [k.name for k in listed]

    updated = client.api_keys.update(hash=created.data.hash, name="CI", disabled=True)
    assert updated.data.name == "CI" and updated.data.disabled is True
    assert "CI" not in [k.name for k in client.api_keys.list().data]
    assert "CI" in [k.name for k in client.api_keys.list(include_disabled=True).data]

    assert client.api_keys.get(hash=created.data.hash).data.hash == created.data.hash
    assert client.api_keys.delete(hash=created.data.hash).DELETED is True
    assert created.data.hash not in [
        k.hash for k in client.api_keys.list(include_disabled=True).data
    ]


def test_credits_report_the_ledger_and_the_gateway_spend(
    live_server, ada, ada_management_key, redis_client
):
    redis_client.hset(gateway_state.account(ada.pk), "spent", 2_250_000_000)

    credits = sdk(live_server, ada_management_key).credits.get_credits().data

    assert credits.total_credits == 25.0
    assert credits.total_usage == 2.25


def test_server_side_auth_code_is_exchanged_for_a_key(live_server, ada, ada_key):
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    client = sdk(live_server, ada_key)

    code = client.o_auth.create_auth_code(
        callback_url="https://notes.example/callback",
        code_challenge=challenge,
        code_challenge_method="S256",
        key_label="Notes",
        limit=3,
    ).data
    exchanged = OpenRouter(
        server_url=live_server.url + "/api/v1"
    ).o_auth.exchange_auth_code_for_api_key(
        code=code.id, code_verifier=verifier, code_challenge_method="S256"
    )

    assert exchanged.user_id == f"user_{ada.pk}"
    minted = row(exchanged.key)
    assert minted.user == ada and minted.name == "Notes" and minted.limit == 3
    assert minted.oauth_app is not None and minted.oauth_app.pk == code.app_id
    new_key = sdk(live_server, exchanged.key).api_keys.get_current_key_metadata().data
    assert new_key.limit == 3.0
