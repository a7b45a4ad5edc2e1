"""JSON API for provider keys (BYOK), with a management key: GET/POST /byok,
GET/PATCH/DELETE /byok/{id}, in OpenRouter's shapes. The secret is write-only."""

import re
import uuid
from typing import Any

from django.db import transaction
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.models import ApiKey
from accounts.permissions import IsManagementKey, request_key
from billing import byok
from billing.models import ProviderKey
from config.api_errors import ApiError
from marketplace.models import Provider

HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_FILTER = 100


class _Filter(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.CharField(max_length=300),
            allow_null=True,
            required=False,
            max_length=MAX_FILTER,
            **kwargs,
        )


class KeyFields(serializers.Serializer):
    name = serializers.CharField(max_length=255, allow_null=True, allow_blank=True, required=False)
    disabled = serializers.BooleanField(required=False)
    is_fallback = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-10_000, max_value=10_000)
    allowed_models = _Filter()
    allowed_api_key_hashes = _Filter()
    allowed_user_ids = _Filter()
    workspace_id = serializers.UUIDField(allow_null=True, required=False)


class KeyCreate(KeyFields):
    provider = serializers.CharField(max_length=100)
    key = serializers.CharField(max_length=8192, trim_whitespace=True)


class KeyUpdate(KeyFields):
    key = serializers.CharField(max_length=8192, trim_whitespace=True, required=False)


def key_json(key: ProviderKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "provider": key.provider,
        "workspace_id": None,  # one workspace: a key applies everywhere
        "label": key.label,
        "name": key.name or None,
        "disabled": key.disabled,
        "is_fallback": key.is_fallback,
        "allowed_models": key.allowed_models,
        "allowed_api_key_hashes": key.allowed_api_key_hashes,
        "allowed_user_ids": key.allowed_user_ids,
        "sort_order": key.sort_order,
        "created_at": key.created_at.isoformat().replace("+00:00", "Z"),
    }


def _valid(serializer_class: type, data: Any, user_id: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    fields.pop("workspace_id", None)
    if "name" in fields:
        fields["name"] = fields["name"] or ""
    if "provider" in fields:
        fields["provider"] = fields["provider"].strip().lower()
        if not Provider.objects.filter(slug=fields["provider"]).exists():
            raise ApiError(400, f"Unknown provider: {fields['provider']}")
    for name in byok.FILTERS:
        if fields.get(name) == []:
            raise ApiError(400, f"{name} must not be empty: use null for no restriction")
    hashes = fields.get("allowed_api_key_hashes")
    if hashes:
        if not all(HASH.match(h) for h in hashes):
            raise ApiError(400, "allowed_api_key_hashes: 64 lowercase hex characters each")
        live = set(
            ApiKey.objects.filter(user_id=user_id, hash__in=hashes).values_list("hash", flat=True)
        )
        if missing := [h for h in hashes if h not in live]:
            raise ApiError(400, f"allowed_api_key_hashes: no such key {missing[0]}")
    return fields


class ByokView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsManagementKey]

    def _user(self, request: Request) -> int:
        return int(request_key(request).user_id)

    def _own(self, request: Request, key_id: str) -> ProviderKey:
        try:
            parsed = uuid.UUID(key_id)
        except ValueError:
            raise ApiError(404, "BYOK key not found") from None
        key = byok.live_keys(self._user(request)).filter(pk=parsed).first()
        if key is None:
            raise ApiError(404, "BYOK key not found")
        return key


class ByokListView(ByokView):
    def get(self, request: Request) -> Response:
        try:
            offset = int(request.query_params.get("offset", 0))
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            raise ApiError(400, "offset and limit must be integers") from None
        if offset < 0 or not 1 <= limit <= 100:
            raise ApiError(400, "offset must be >= 0 and limit between 1 and 100")
        keys = byok.live_keys(self._user(request))
        if provider := request.query_params.get("provider"):
            keys = keys.filter(provider=provider)
        return Response(
            {
                "data": [key_json(k) for k in keys[offset : offset + limit]],
                "total_count": keys.count(),
            }
        )

    def post(self, request: Request) -> Response:
        user_id = self._user(request)
        fields = _valid(KeyCreate, request.data, user_id)
        with transaction.atomic():
            key = byok.create(user_id, fields.pop("provider"), fields.pop("key"), **fields)
        return Response({"data": key_json(key)}, status=status.HTTP_201_CREATED)


class ByokDetailView(ByokView):
    def get(self, request: Request, key_id: str) -> Response:
        return Response({"data": key_json(self._own(request, key_id))})

    def patch(self, request: Request, key_id: str) -> Response:
        key = self._own(request, key_id)
        fields = _valid(KeyUpdate, request.data, key.user_id)
        with transaction.atomic():
            byok.update(key, fields.pop("key", None), **fields)
        return Response({"data": key_json(key)})

    def delete(self, request: Request, key_id: str) -> Response:
        key = self._own(request, key_id)
        with transaction.atomic():
            byok.delete(key)
        return Response({"deleted": True})
