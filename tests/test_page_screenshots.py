"""Every page as a demanding user sees it, on a laptop (1280x860) and a phone (390x844): the
stylesheets apply, the header and the page's heading show, nothing sticks out of its card or
table, and the page never scrolls sideways. Full-page screenshots land in the test's folder
(`pytest --basetemp=/tmp/shots`) so a person can look at them."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from accounts import keys as key_rules
from accounts import oauth
from accounts.models import ApiKey
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
CALLBACK = "http://localhost:3000/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

# Signed out: the catalog, the sign-in pages, docs and the header's other pages, a 404.
PUBLIC_PAGES = {
    "home": "/",
    "models": "/models",
    "models-filtered": "/models?supported_parameters=tools&max_price=1&sort=pricing-low-to-high",
    "models-none-match": "/models?q=no-such-model-anywhere",
    "model": "/meta-llama/llama-3.3-70b-instruct",
    "compare": (
        "/compare?models=meta-llama/llama-3.3-70b-instruct"
        "&models=openai/gpt-4o-mini&models=anthropic/claude-sonnet-4.5"
    ),
    "providers": "/providers",
    "provider": "/providers/deepinfra",
    "sign-in": "/accounts/login/",
    "sign-up": "/accounts/signup/",
    "password-reset": "/accounts/password/reset/",
    "docs": "/docs",
    "rankings": "/rankings",
    "apps": "/apps",
    "not-found": "/no-such-author/no-such-model",
}

# What a wrapper may not let its content spill out of; scrolling containers inside are fine.
OVERFLOW_JS = """() => {
  const problems = [];
  const scrolls = (el) =>
    ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const wrappers = '.card, .table-wrap, .model-card, .facts > div';
  for (const box of document.querySelectorAll(wrappers)) {
    const outer = box.getBoundingClientRect();
    if (outer.right > window.innerWidth + 1 || outer.left < -1) {
      const [w, x] = [Math.round(outer.width), Math.round(outer.left)];
      problems.push(`${box.className} is ${w}px wide at x=${x}`);
    }
    if (scrolls(box)) continue;
    for (const el of box.querySelectorAll('*')) {
      let parent = el.parentElement, clipped = false;
      while (parent && parent !== box) {
        if (scrolls(parent)) { clipped = true; break; }
        parent = parent.parentElement;
      }
      if (clipped) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(el).position === 'fixed') continue;
      if (r.right > outer.right + 1 || r.left < outer.left - 1) {
        const text = (el.innerText || el.value || '').slice(0, 40);
        const tag = `<${el.tagName.toLowerCase()} class="${el.className}">`;
        problems.push(`${tag} "${text}" leaves ${box.className}`);
      }
    }
  }
  return problems.slice(0, 5);
}"""

STYLES_JS = """() => {
  const header = document.querySelector('.site-header');
  return {
    sheets: [...document.querySelectorAll('link[rel=stylesheet]')]
      .map(l => [l.href, !!l.sheet && l.sheet.cssRules.length]),
    background: getComputedStyle(document.body).backgroundColor,
    header: header && getComputedStyle(header).position,
  };
}"""


@pytest.fixture
def site(live_server: Any, redis_client: Any) -> str:
    load_catalog_file(DEFAULT_CATALOG)
    return str(live_server.url)


@pytest.fixture
def ada(site: str) -> User:
    """A customer with a few keys: one with a weekly limit, a management key, a disabled one,
    and one an app created when she signed in to it."""
    user = User.objects.create_user("ada", "ada@example.com", "a long pass phrase 42")
    key_rules.create_key(user, "Production server", limit=Decimal("20"), limit_reset="weekly")
    key_rules.create_key(user, "Admin automation", management=True)
    old = key_rules.create_key(user, "Old laptop").row
    key_rules.update_key(old, disabled=True)
    app = oauth.app_for(CALLBACK, "Notebook Chat")
    key_rules.create_key(user, "Notebook Chat", oauth_app=app, limit=Decimal("5"))
    return user


def _session_cookie(user: User, url: str) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def _look_at(tab: Any, name: str, shots: Path, width: int) -> list[str]:
    """Screenshot the page and list what a user would notice is wrong with it."""
    tab.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-page in the shot
    tab.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    tab.screenshot(path=str(shots / f"{name}-first-screen.png"))
    problems: list[str] = []
    styles = tab.evaluate(STYLES_JS)
    unloaded = [href for href, rules in styles["sheets"] if not rules]
    if unloaded or styles["background"] != "rgb(248, 250, 252)" or styles["header"] != "sticky":
        problems.append(f"unstyled: {styles}")
    if not tab.locator("header.site-header .brand").is_visible():
        problems.append("the header is not visible")
    heading = tab.locator("main h1").first
    if not heading.count() or not heading.is_visible():
        problems.append("no visible main heading")
    scroll, inner = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        problems.append(f"the page scrolls sideways: {scroll}px wide in a {inner}px window")
    problems += tab.evaluate(OVERFLOW_JS)
    return [f"{name} @{width}px: {p}" for p in problems]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_looks_right(
    site: str, ada: User, browser: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    problems: list[str] = []
    width = viewport["width"]

    visitor = browser.new_context(viewport=viewport)
    tab = visitor.new_page()
    tab.set_default_timeout(10_000)
    for name, path in PUBLIC_PAGES.items():
        response = tab.goto(site + path)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), name
        problems += _look_at(tab, name, tmp_path, width)
    assert "Page not found" in tab.inner_text("main h1")
    visitor.close()

    member = browser.new_context(viewport=viewport)
    member.add_cookies([_session_cookie(ada, site)])
    tab = member.new_page()
    tab.set_default_timeout(10_000)
    signed_in_pages = {
        "keys": "/keys",
        "key-edit": f"/keys/{ApiKey.objects.get(user=ada, name='Production server').hash}",
        "connected-apps": "/connected-apps",
        "settings": "/settings",
        "consent": (
            f"/auth?callback_url={CALLBACK}&code_challenge={CHALLENGE}"
            "&code_challenge_method=S256&app_name=Notebook+Chat"
        ),
    }
    for name, path in signed_in_pages.items():
        response = tab.goto(site + path)
        assert response is not None and response.status == 200, name
        problems += _look_at(tab, name, tmp_path, width)

    # The key-created page: the plaintext key in its own box, on top of the list.
    tab.goto(site + "/keys")
    tab.fill("input[name=name]", "A key with a rather long descriptive name for staging")
    tab.click("text=Create key")
    assert tab.input_value("#new-key").startswith("sk-or-v1-")
    problems += _look_at(tab, "key-created", tmp_path, width)

    if width < 800:  # the phone menu opens and lists the account links
        tab.click("label.nav-toggle-label")
        assert (
            tab.get_by_role("navigation", name="Main").get_by_role("link", name="Keys").is_visible()
        )
        problems += _look_at(tab, "phone-menu-open", tmp_path, width)
    member.close()

    assert not problems, "\n".join(problems)


def test_the_server_error_page_renders_without_a_request() -> None:
    # Django renders 500.html with an empty context: the layout must still name the site.
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html and "OpenMarket</span>" in html
    assert "css/site.css" in html
