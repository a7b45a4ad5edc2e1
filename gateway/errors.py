"""OpenRouter's error shape: {"error": {"code", "message", "metadata"}}."""

from typing import Any

import orjson

ERROR_TYPES = {
    400: "invalid_request",
    401: "authentication",
    402: "payment_required",
    403: "permission_denied",
    404: "not_found",
    408: "timeout",
    413: "payload_too_large",
    422: "unprocessable",
    429: "rate_limit_exceeded",
    500: "server",
    502: "provider_unavailable",
    503: "provider_overloaded",
    504: "timeout",
}


class GatewayError(Exception):
    """Raised anywhere on the request path; the app renders it in the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        metadata: dict[str, Any] | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message, "metadata": self.metadata}

    def body(self) -> bytes:
        return orjson.dumps({"error": self.to_dict()})

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after is None and self.status in (429, 503):
            self.retry_after = 1
        if self.retry_after is None:
            return []
        return [(b"retry-after", str(self.retry_after).encode())]


def bad_request(message: str, **metadata: Any) -> GatewayError:
    return GatewayError(400, message, {"error_type": "invalid_request", **metadata})
