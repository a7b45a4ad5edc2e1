"""App favicons: fetched from the app's own site by a job (the icon its home page declares, else
/favicon.ico), stored and served from our origin; anything unsafe or broken leaves the card with
its generated initial."""

import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.cache import cache

from rankings import favicons
from rankings.favicons import Refused, check_url, fetch_icon, refresh_icons
from rankings.leaderboards import VERSION_KEY, publish_version
from rankings.models import App, AppIcon, AppRanking

pytestmark = pytest.mark.django_db(transaction=True)


def png(width: int = 16, color: tuple[int, int, int] = (220, 38, 38)) -> bytes:
    """A real PNG (a filled square), so a browser draws it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(color) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * width)) + chunk(b"IEND", b""))


Route = tuple[int, str, bytes] | Callable[[], tuple[int, str, bytes]]


@pytest.fixture
def site(settings) -> Iterator[Callable[[dict[str, Route]], str]]:
    """Starts local sites serving the given paths; returns each one's origin."""
    settings.FAVICON_ALLOWED_PRIVATE_ADDRESSES = ["127.0.0.1"]
    servers = []

    def start(routes: dict[str, Route]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path, (404, "text/plain", b"not found"))
                status, kind, body = route() if callable(route) else route
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", kind)
                else:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def make_app(origin: str, title: str, rank: int = 1) -> App:
    now = datetime.now(UTC)
    app = App.objects.create(origin=origin, title=title, first_seen=now - timedelta(days=3),
                             last_seen=now)
    AppRanking.objects.create(period="month", rank=rank, app=app, tokens=10_000 // rank,
                              requests=10, previous_tokens=5000, models_used=2)
    return app


def test_declared_icon_then_favicon_ico(site) -> None:
    icon = png()
    declared = site({"/": (200, "text/html; charset=utf-8",
                           b'<html><head><link rel="shortcut icon" href="/img/i.png"></head>'),
                     "/img/i.png": (200, "image/png", icon)})
    assert fetch_icon(declared).content == icon
    conventional = site({"/favicon.ico": (200, "image/x-icon", b"\x00\x00\x01\x00" + b"x" * 60)})
    fetched = fetch_icon(conventional)
    assert fetched.content_type == "image/x-icon" and len(fetched.content) == 64


def test_refused_icons(site, monkeypatch) -> None:
    html = site({"/favicon.ico": (200, "text/html", b"<html>not an icon</html>")})
    svg = site({"/favicon.ico": (200, "image/svg+xml", b"<svg onload='alert(1)'/>")})
    lying = site({"/favicon.ico": (200, "image/png", b"GIF89a but declared png... and html")})
    huge = site({"/favicon.ico": (200, "image/png", png() + b"\x00" * 200_000)})
    missing = site({})
    inward = site({"/favicon.ico": (302, "http://10.1.2.3/favicon.ico", b"")})

    def slow() -> tuple[int, str, bytes]:
        time.sleep(2)
        return 200, "image/png", png()

    sleepy = site({"/favicon.ico": slow})
    for origin, reason in [(html, "not a PNG"), (svg, "not a PNG"), (huge, "larger than"),
                           (missing, "answered 404"),
                           (inward, r"non-public address \(10\.1\.2\.3\)")]:
        with pytest.raises(Refused, match=reason):
            fetch_icon(origin)
    assert fetch_icon(lying).content_type == "image/gif"  # the bytes decide, and they are a GIF
    monkeypatch.setattr(favicons, "TIMEOUT_S", 0.5)
    with pytest.raises(Refused, match="ReadTimeout"):
        fetch_icon(sleepy)


def test_never_private_addresses_or_other_schemes(settings) -> None:
    settings.FAVICON_ALLOWED_PRIVATE_ADDRESSES = []
    for url, reason in [("http://127.0.0.1:9/favicon.ico", "non-public"),
                        ("http://localhost/favicon.ico", "non-public"),
                        ("http://[::1]/favicon.ico", "non-public"),
                        ("http://192.168.1.10/", "non-public"),
                        ("http://169.254.169.254/latest/meta-data", "non-public"),
                        ("ftp://example.com/favicon.ico", "not an http"),
                        ("file:///etc/passwd", "not an http")]:
        with pytest.raises(Refused, match=reason):
            check_url(url)


def test_job_stores_icons_and_cards_show_them(site, live_server, page, tmp_path: Path) -> None:
    good = site({"/favicon.ico": (200, "image/png", png(32))})
    found = make_app(good, "Red Square", rank=1)
    broken = make_app(site({}), "No Icon", rank=2)
    hidden = make_app(good + "/hidden", "Hidden", rank=3)
    hidden.hidden = True
    hidden.save()
    assert refresh_icons() == 1
    assert AppIcon.objects.get(app=broken).error.endswith("answered 404")
    assert not AppIcon.objects.filter(app=hidden).exists()  # hidden apps are not fetched
    assert refresh_icons() == 0  # nothing due again right away

    answer = page.request.get(live_server.url + f"/apps/{found.pk}/icon")
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body() == png(32)
    assert page.request.get(live_server.url + f"/apps/{broken.pk}/icon").status == 404

    page.goto(live_server.url + "/apps")
    cards = page.locator("#app-cards .app-card")
    assert cards.count() == 2
    first_icon = cards.nth(0).locator("img.app-favicon")
    assert first_icon.get_attribute("src") == f"/apps/{found.pk}/icon"
    page.wait_for_function("document.querySelector('img.app-favicon').naturalWidth > 0")
    assert first_icon.evaluate("img => img.naturalWidth") == 32
    assert cards.nth(1).locator("span.app-icon").inner_text() == "N"
    page.screenshot(path=str(tmp_path / "apps-1280.png"), full_page=True)
    page.goto(live_server.url + f"/apps/{found.pk}")
    assert page.locator("header img.app-favicon").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/apps")
    page.screenshot(path=str(tmp_path / "apps-390.png"), full_page=True)


def test_cached_pages_show_a_new_icon_without_waiting_for_a_refresh(site, client,
                                                                     redis_client) -> None:
    good = site({"/favicon.ico": (200, "image/png", png(16))})
    app = make_app(good, "Fresh Icon")
    publish_version()  # the pages are now served from the cache of this rankings version
    icon = f'src="/apps/{app.pk}/icon"'
    for url in ("/apps", f"/apps/{app.pk}"):
        assert icon not in client.get(url).content.decode()  # cached with its initial
    assert refresh_icons() == 1
    for url in ("/apps", f"/apps/{app.pk}"):
        assert icon in client.get(url).content.decode(), url
    # A job run that changes nothing keeps the cached pages.
    version = cache.get(VERSION_KEY)
    AppIcon.objects.update(fetched_at=datetime.now(UTC) - timedelta(days=30))
    assert refresh_icons() == 1
    assert cache.get(VERSION_KEY) == version
