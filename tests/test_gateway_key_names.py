"""The gateway and the web side name every shared Redis key alike (docs/gateway-state.md),
and every key one money script touches hashes to one Redis Cluster slot."""

import re

from config import gateway_state as web
from gateway import keys as gw

HASH = "ab" * 32


def _slot_tag(name: str) -> str:
    match = re.search(r"\{([^}]+)\}", name)
    assert match, f"{name} has no hash tag"
    return match.group(1)


def test_both_sides_spell_the_same_names() -> None:
    assert (gw.SHARDS, gw.CATALOG, gw.CATALOG_SEQ, gw.READY) == (
        web.SHARDS, web.CATALOG, web.CATALOG_SEQ, web.READY)
    for user_id in (1, 15, 16, 17, 123456789, "42"):
        assert gw.account(user_id) == web.account(user_id)
        assert gw.key_usage(user_id, HASH) == web.key_usage(user_id, HASH)
        assert gw.generation(user_id, "gen-1-x") == web.generation(user_id, "gen-1-x")
        assert gw.key(HASH) == web.key(HASH)
        assert gw.presets(user_id) == web.presets(user_id)
    assert gw.all_holds() == web.all_holds()
    assert gw.all_usage_streams() == web.all_usage_streams()
    assert len(set(gw.all_usage_streams())) == gw.SHARDS == 16


def test_an_accounts_state_shares_one_hash_slot() -> None:
    for user_id in (1, 16, 31, 1000003):
        shard = user_id % 16
        names = [gw.account(user_id), gw.key_usage(user_id, HASH),
                 gw.generation(user_id, "gen-1"), gw.holds(shard), gw.usage_stream(shard)]
        assert {_slot_tag(name) for name in names} == {f"s{shard}"}
    assert gw.account(3) == "gw:{s3}:account:3"
    assert gw.usage_stream(0) == "gw:{s0}:usage"
