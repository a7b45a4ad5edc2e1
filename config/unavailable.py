"""When Redis is down or stalls: a 503 a person can read, or the API's error shape.

DRF views already answer through config/api_errors.py; this middleware covers everything else
(pages, plain Django JSON views). What is served from Postgres alone never gets here.
"""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.api_errors import RETRY_AFTER_S, STATE_STORE_DOWN, unavailable_body

logger = logging.getLogger(__name__)

FALLBACK_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Temporarily unavailable</title>"
    "<h1>Temporarily unavailable</h1><p>Part of the service is not answering. "
    "Please try again in a few seconds.</p>"
)


class StateStoreUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, STATE_STORE_DOWN):
            return None
        logger.warning("Redis unavailable for %s %s: %s", request.method, request.path, exc)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(unavailable_body(), status=503)
        else:
            try:
                # No request context: the page must not need Redis to render.
                response = HttpResponse(render_to_string("503.html"), status=503)
            except Exception:  # the base template failing too must not turn this into a 500
                logger.exception("the 503 page could not be rendered")
                response = HttpResponse(FALLBACK_PAGE, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
