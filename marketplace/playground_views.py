"""The playground page and the endpoint that hands its script a short-lived key."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.session_keys import LIMIT, mint_session_key
from marketplace.catalog import get_catalog
from marketplace.playground import MAX_COLUMNS, initial_models, pickable_models


@require_GET
def playground_page(request: HttpRequest) -> HttpResponse:
    catalog = get_catalog()
    context = {
        "models": pickable_models(catalog),
        "initial": initial_models(request.GET.getlist("model"), catalog),
        "max_columns": MAX_COLUMNS,
    }
    return render(request, "marketplace/playground.html", context)


@never_cache
@require_POST
def playground_key(request: HttpRequest) -> JsonResponse:
    """A key for this page's script only (CSRF-checked POST, never rendered in a page)."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"error": {"code": 401, "message": "Sign in to use the playground."}}, status=401
        )
    minted = mint_session_key(request.user)
    return JsonResponse(
        {
            "key": minted.key,
            "expires_at": int(minted.expires_at.timestamp()),
            "limit": str(LIMIT),
        }
    )
