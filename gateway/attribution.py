"""App attribution headers: HTTP-Referer, X-OpenRouter-Title / X-Title, X-OpenRouter-Categories."""

from dataclasses import dataclass, field

from gateway.http import Scope

CATEGORIES = frozenset(
    [
        "cli-agent",
        "ide-extension",
        "cloud-agent",
        "programming-app",
        "native-app-builder",
        "creative-writing",
        "video-gen",
        "image-gen",
        "audio-gen",
        "writing-assistant",
        "general-chat",
        "personal-agent",
        "legal",
        "roleplay",
        "game",
    ]
)
MAX_CATEGORIES = 2


@dataclass
class Attribution:
    http_referer: str | None = None
    app_title: str | None = None
    app_categories: list[str] = field(default_factory=list)


def from_scope(scope: Scope) -> Attribution:
    headers = {
        k: v
        for k, v in scope["headers"]
        if k
        in (
            b"http-referer",
            b"referer",
            b"x-title",
            b"x-openrouter-title",
            b"x-openrouter-categories",
        )
    }
    if not headers:
        return Attribution()

    def get(*names: bytes) -> str | None:
        for name in names:
            value = headers.get(name)
            if value:
                return value.decode("utf-8", "replace").strip()[:500] or None
        return None

    categories: list[str] = []
    for raw in (get(b"x-openrouter-categories") or "").split(","):
        slug = raw.strip().lower()
        # Unknown values are dropped silently, as OpenRouter does.
        if slug in CATEGORIES and slug not in categories:
            categories.append(slug)
    return Attribution(
        http_referer=get(b"http-referer", b"referer"),
        app_title=get(b"x-openrouter-title", b"x-title"),
        app_categories=categories[:MAX_CATEGORIES],
    )
