"""Bearer API keys for the Django JSON API: request.user = owner, request.auth = the ApiKey."""

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.keys import hash_key
from accounts.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """No header: anonymous (permissions decide). A bad, disabled or expired key: 401."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'")
        key = ApiKey.objects.select_related("user").filter(hash=hash_key(token)).first()
        # The key itself never appears in a message or a log line.
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key")
        if key.disabled:
            raise exceptions.AuthenticationFailed("API key is disabled")
        if key.expires_at is not None and key.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("API key has expired")
        if not key.user.is_active:
            raise exceptions.AuthenticationFailed("Account is disabled")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
