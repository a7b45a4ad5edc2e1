"""Which kind of key an API view needs. Use with `ApiKeyAuthentication`."""

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import ApiKey


def request_key(request: Request) -> ApiKey:
    """The authenticated key of an API request; 401 when there is none."""
    if not isinstance(request.auth, ApiKey):
        raise exceptions.NotAuthenticated("No auth credentials found")
    return request.auth


class HasApiKey(BasePermission):
    """Any valid key, inference or management."""

    def has_permission(self, request: Request, view: Any) -> bool:
        request_key(request)
        return True


class IsManagementKey(BasePermission):
    message = "Only management keys can perform this operation"

    def has_permission(self, request: Request, view: Any) -> bool:
        return request_key(request).management


class IsInferenceKey(BasePermission):
    message = "Management keys cannot be used for this operation; use an inference key"

    def has_permission(self, request: Request, view: Any) -> bool:
        return not request_key(request).management
