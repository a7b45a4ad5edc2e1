"""The gateway world with web search pointed at the simulator's local search corpus."""

from typing import Any

import pytest

from gateway.search import SearchSettings


@pytest.fixture
def gateway_options(sim: str) -> dict[str, Any]:
    return {"web_search": SearchSettings(engine="local", url=f"{sim}/search")}
