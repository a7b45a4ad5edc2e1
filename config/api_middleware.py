"""The JSON API's edges: unknown `/api/v1/...` paths and wrong methods answer in OpenRouter's
error shape (clients print HTML pages raw), and the public endpoints allow browsers (CORS).

CORS is for bearer keys only: any origin, never `Access-Control-Allow-Credentials`, so a
cookie session can never be used cross-origin. Management routes send no CORS headers.
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.api_errors import error_response

API_PREFIX = "/api/v1/"
# Inference goes to the gateway at the edge; these are the public routes Django serves.
CORS_PATHS = re.compile(
    r"^/api/v1/(models(/.*)?|model/.+|providers|embeddings/models|endpoints/zdr|key"
    r"|generation(/.*)?|auth/keys|chat/completions|completions|responses|messages"
    r"|embeddings)/?$"
)
ALLOW_HEADERS = (
    "Authorization, Content-Type, HTTP-Referer, X-OpenRouter-Title, X-Title, "
    "X-OpenRouter-Categories, X-OpenRouter-Metadata, x-session-id, x-api-key, "
    "anthropic-version, anthropic-beta, x-anthropic-beta"
)
EXPOSE_HEADERS = "X-Generation-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, " \
    "X-RateLimit-Reset"


def _is_json(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")


class ApiEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return self.get_response(request)
        cors = bool(CORS_PATHS.match(path))
        if cors and request.method == "OPTIONS" and \
                "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response["Access-Control-Max-Age"] = "86400"
        else:
            response = self.get_response(request)
            if response.status_code == 404 and not _is_json(response):
                response = error_response(404, f"No API route for {path}",
                                          {"error_type": "not_found"})
            elif response.status_code == 405 and not _is_json(response):
                allowed = response.get("Allow", "")
                response = error_response(405, f"{request.method} is not allowed on {path}",
                                          {"error_type": "invalid_request",
                                           "allowed": allowed})
                if allowed:
                    response["Allow"] = allowed
        if cors:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
