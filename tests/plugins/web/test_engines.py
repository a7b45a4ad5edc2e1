"""The search adapters against the simulator's stand-in, which speaks SearxNG's and Exa's APIs."""

from typing import Any

import aiohttp
import pytest

from gateway.search import Result, SearchSettings, SearchUnavailable, search
from tests.aio import run as run_async


def run(settings: SearchSettings, query: str, limit: int = 5, include: list[str] | None = None,
        exclude: list[str] | None = None) -> list[Result]:
    async def go() -> list[Result]:
        async with aiohttp.ClientSession() as session:
            return await search(session, settings, query, limit, include or [], exclude or [])

    return run_async(go())


@pytest.mark.parametrize("engine", ["local", "searxng", "exa"])
def test_each_api_returns_the_corpus_pages_best_first(sim: str, engine: str) -> None:
    url = f"{sim}/search/exa" if engine == "exa" else f"{sim}/search"
    settings = SearchSettings(engine=engine, url=url, api_key="test-key")
    results = run(settings, "When was the Eiffel Tower built?", limit=3)
    assert len(results) == 3
    assert results[0].url.startswith("https://www.toureiffel.paris/")
    assert all(r.title and r.content for r in results)


def test_domain_filters(sim: str) -> None:
    settings = SearchSettings(engine="local", url=f"{sim}/search")
    only = run(settings, "Paris Eiffel Tower Louvre Seine", include=["wikipedia.org"])
    # Both Wikipedia pages, though others rank above them: filtered from a longer list.
    assert len(only) == 2 and all(r.url.startswith("https://en.wikipedia.org/") for r in only)
    without = run(settings, "Paris Eiffel Tower Louvre Seine", exclude=["*.toureiffel.paris"])
    assert without and not any("toureiffel" in r.url for r in without)


def test_the_stand_in_labels_itself(sim: str) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{sim}/search?q=redis&format=json") as resp:
        answer: Any = json.load(resp)
    assert "not live web results" in answer["notice"]
    assert answer["results"][0]["engine"] == "local-corpus"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/search", "{sim}/healthz-missing"])
def test_a_failing_engine_says_which_and_why(sim: str, url: str) -> None:
    settings = SearchSettings(engine="searxng", url=url.format(sim=sim), timeout=2)
    with pytest.raises(SearchUnavailable, match="searxng"):
        run(settings, "redis")
