from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PAGES = {
    "rankings": (
        "Rankings",
        "Token usage by model, author and app, updated as traffic flows. The leaderboards "
        "appear here once usage has been rolled up.",
    ),
    "apps": (
        "Apps",
        "The showcase of apps built on the marketplace, ranked by the tokens they use. Apps "
        "identify themselves with the HTTP-Referer and X-OpenRouter-Title headers.",
    ),
}


def coming_soon(request: HttpRequest, page: str) -> HttpResponse:
    heading, blurb = PAGES[page]
    return render(request, "rankings/coming_soon.html", {"heading": heading, "blurb": blurb})
