"""App favicons: fetched from the app's site by a Celery job, stored, served from our origin.

The showcase never loads a third-party image (no tracking of our visitors by app sites, no
mixed content); a card shows the stored icon, or the generated initial when there is none.
Fetching a URL that came from a client header is a server-side request to an address of the
client's choosing, so: http(s) only, every address the host resolves to must be public (never
localhost, private, link-local or reserved; checked again after each redirect), short timeouts,
a size cap, and only bytes that are an image in a format browsers render safely (no SVG, which
can carry script). A host that changes its DNS answer between the check and the connection is
not covered; the short timeouts and the size cap bound what such a request can do.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from rankings.leaderboards import publish_version
from rankings.models import App, AppIcon

TIMEOUT_S = 3.0
MAX_ICON_BYTES = 100_000
MAX_PAGE_BYTES = 200_000  # of the home page, to find its <link rel="icon">
MAX_REDIRECTS = 3
REFRESH_AFTER = timedelta(days=7)
RETRY_AFTER = timedelta(days=1)  # a site that failed is tried again, not every few minutes
BATCH = 50
# Leading bytes of each accepted format, and the type it is served as.
SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\x00\x00\x01\x00", "image/x-icon"),
              (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"\xff\xd8\xff", "image/jpeg")]
ICON_LINK = re.compile(
    r"<link\b[^>]*\brel\s*=\s*[\"']?(?:shortcut\s+)?icon\b[^>]*>", re.IGNORECASE)
HREF = re.compile(r"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


class Refused(Exception):
    """Why an icon was not taken (kept on the AppIcon row, shown in the admin)."""


@dataclass(frozen=True)
class Icon:
    content: bytes
    content_type: str


def check_url(url: str) -> None:
    """Refuses anything but http(s) to a host whose every address is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url[:200]}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise Refused(f"cannot resolve {parts.hostname}: {error}") from None
    # Tests serve icons from a local server and allow its one address; production sets none.
    allowed = set(getattr(settings, "FAVICON_ALLOWED_PRIVATE_ADDRESSES", ()))
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if str(address) in allowed:
            continue
        if not address.is_global or address.is_multicast:
            raise Refused(f"{parts.hostname} resolves to a non-public address ({address})")


def _get(client: httpx.Client, url: str, limit: int) -> tuple[str, str, bytes]:
    """(final URL, content type, body) of a GET, following checked redirects, capped."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        with client.stream("GET", url) as response:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise Refused(f"{url[:200]} answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise Refused(f"{url[:200]} is larger than {limit} bytes")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise Refused(f"{url[:200]} is larger than {limit} bytes")
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            return url, content_type.lower(), body
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def sniff(body: bytes) -> str | None:
    """The image type of these bytes, when they are an accepted format."""
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES if body.startswith(magic)), None)


def declared_icon(page_url: str, html: str) -> str | None:
    """The first `<link rel="icon" href=...>` of a page, as an absolute URL."""
    for tag in ICON_LINK.findall(html):
        found = HREF.search(tag)
        if found:
            href = next(group for group in found.groups() if group is not None)
            if href and not href.startswith("data:"):
                return urljoin(page_url, href)
    return None


def fetch_icon(origin: str) -> Icon:
    """The favicon of a site: the one its home page declares, else /favicon.ico."""
    headers = {"User-Agent": "OpenMarket-favicon/1.0", "Accept": "image/*,text/html;q=0.5"}
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, headers=headers) as client:
        candidates = []
        try:
            url, kind, body = _get(client, origin + "/", MAX_PAGE_BYTES)
            if kind == "text/html":
                declared = declared_icon(url, body.decode("utf-8", "replace"))
                if declared:
                    candidates.append(declared)
        except (Refused, httpx.HTTPError):
            pass  # no readable home page: the conventional location may still answer
        candidates.append(origin + "/favicon.ico")
        reasons = []
        for candidate in dict.fromkeys(candidates):
            try:
                _, kind, body = _get(client, candidate, MAX_ICON_BYTES)
            except httpx.HTTPError as error:
                reasons.append(f"{candidate[:200]}: {type(error).__name__}")
                continue
            except Refused as error:
                reasons.append(str(error))
                continue
            actual = sniff(body)
            if not kind.startswith("image/") or actual is None:
                reasons.append(f"{candidate[:200]} is not a PNG, ICO, GIF, JPEG or WebP image"
                               f" ({kind or 'no content type'})")
                continue
            return Icon(body, actual)
    raise Refused("; ".join(reasons))


def refresh_icon(app: App, now: datetime | None = None) -> AppIcon:
    """Fetches and stores one app's icon; a failure stores why, and the card keeps its initial."""
    now = now or datetime.now(UTC)
    try:
        icon = fetch_icon(app.origin)
        values = {"content": icon.content, "content_type": icon.content_type, "error": ""}
    except Refused as error:
        values = {"content": b"", "content_type": "", "error": str(error)[:1000]}
    before = AppIcon.objects.filter(app=app).values_list("content", flat=True).first()
    row, _ = AppIcon.objects.update_or_create(app=app, defaults=values | {"fetched_at": now})
    if bytes(before or b"") != row.content:
        # /apps and app pages are cached per rankings version and say whether a card has an
        # icon: a new version shows an icon that appeared, changed or went away at once.
        transaction.on_commit(publish_version)
    return row


def due_apps(now: datetime, limit: int = BATCH) -> list[App]:
    """Public apps never tried, or whose icon is old, or whose last try failed a while ago."""
    stale = (Q(icon__isnull=True) | Q(icon__fetched_at__lt=now - REFRESH_AFTER)
             | Q(icon__error__gt="", icon__fetched_at__lt=now - RETRY_AFTER))
    return list(App.objects.filter(stale, hidden=False).order_by("-last_seen")[:limit])


def refresh_icons(now: datetime | None = None, limit: int = BATCH) -> int:
    """The job: a batch of due apps' icons; returns how many were stored."""
    now = now or datetime.now(UTC)
    return sum(1 for app in due_apps(now, limit) if refresh_icon(app, now).content)


def apps_with_icons(app_ids: list[int]) -> set[int]:
    return set(AppIcon.objects.filter(app_id__in=app_ids).exclude(content=b"")
               .values_list("app_id", flat=True))
