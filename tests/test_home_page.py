"""The home page renders in a real browser with the site's header and search."""

from pathlib import Path

import pytest


@pytest.mark.browser
@pytest.mark.django_db
def test_home_page_in_chromium(live_server, page, tmp_path: Path) -> None:
    page.goto(live_server.url + "/")
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Models", "Rankings", "Apps", "Docs", "Sign in"):
        assert nav.get_by_role("link", name=label).is_visible()
    assert page.get_by_role("searchbox", name="Search models").is_visible()
    # The stylesheet really loaded: the header is white on a light page, not unstyled.
    header_bg = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(255, 255, 255)"
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 10_000
