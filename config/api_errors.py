"""OpenRouter's error shape for every JSON API response: {"error": {code, message, metadata}}."""

from typing import Any

import redis
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(code: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "metadata": metadata}}


def error_response(
    code: int, message: str, metadata: dict[str, Any] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, metadata), status=code)


class ApiError(exceptions.APIException):
    """Raise from an API view to answer with a given status and message."""

    def __init__(self, code: int, message: str, metadata: dict[str, Any] | None = None):
        super().__init__(message)
        self.status_code = code
        self.message = message
        self.metadata = metadata


def _message(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


# Redis failures that mean "try again shortly", not "this request is wrong": the server is
# down, restarting (LOADING is a ConnectionError), or stalled past the client's timeout.
STATE_STORE_DOWN = (redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER_S = 5
UNAVAILABLE_MESSAGE = "Service temporarily unavailable: the state store is not answering"


def unavailable_body() -> dict[str, Any]:
    return error_body(503, UNAVAILABLE_MESSAGE, {"error_type": "service_unavailable"})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, STATE_STORE_DOWN):
        return Response(unavailable_body(), 503, headers={"Retry-After": str(RETRY_AFTER_S)})
    if isinstance(exc, ApiError):
        return Response(error_body(exc.status_code, exc.message, exc.metadata), exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        code = status.HTTP_400_BAD_REQUEST
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = error_body(code, _message(detail))
    response.status_code = code
    return response
