"""JSON API: /key, /keys, /keys/<hash>, /auth/keys, /auth/keys/code (OpenRouter's shapes)."""

from typing import Any

from django.db import transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import keys as key_rules
from accounts import oauth
from accounts.authentication import ApiKeyAuthentication
from accounts.free_limits import free_requests
from accounts.models import ApiKey
from accounts.permissions import HasApiKey, IsInferenceKey, IsManagementKey, request_key
from accounts.serializers import (
    CodeCreate,
    CodeExchange,
    KeyCreate,
    KeyUpdate,
    iso,
    key_json,
    limit_fields,
    usage_fields,
    user_ref,
)
from accounts.usage import usage_of
from billing.ledger import purchased_credits
from config.api_errors import ApiError

PAGE_SIZE = 100


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class KeyApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsManagementKey]


class CurrentKeyView(KeyApiView):
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        key = request_key(request)
        usage = usage_of([key])[key.hash]
        purchased = purchased_credits(key.user_id)
        free = free_requests(key.user_id, purchased)
        data = {
            "label": key.label,
            **limit_fields(key, usage),
            **usage_fields(usage),
            "is_free_tier": purchased <= 0,
            "is_management_key": key.management,
            "is_provisioning_key": key.management,
            "rate_limit": {"requests": -1, "interval": "10s", "note": "deprecated: always -1"},
            "expires_at": iso(key.expires_at),
            "creator_user_id": user_ref(key.user_id),
            # Fields the current SDK requires; this router has no workspaces or budgets layers.
            "workspace_id": "default",
            "organization_id": None,
            "allowed_data_regions": ["global"],
            "budgets": [],
            "effective_budget": None,
            "free_model_daily_requests": free["daily"],
            "free_model_minute_requests": free["minute"],
        }
        return Response({"data": data})


class KeyListView(KeyApiView):
    def get(self, request: Request) -> Response:
        try:
            offset = max(0, int(request.query_params.get("offset") or 0))
        except ValueError:
            raise ApiError(400, "offset must be a non-negative integer") from None
        rows = ApiKey.objects.filter(user_id=request_key(request).user_id)
        if request.query_params.get("include_disabled", "").lower() not in {"true", "1"}:
            rows = rows.filter(disabled=False)
        page = list(rows[offset : offset + PAGE_SIZE])
        usage = usage_of(page)
        return Response({"data": [key_json(key, usage[key.hash]) for key in page]})

    def post(self, request: Request) -> Response:
        body = _valid(KeyCreate, request.data)
        with transaction.atomic():
            new = key_rules.create_key(
                request_key(request).user,
                body["name"],
                limit=body.get("limit"),
                limit_reset=body.get("limit_reset") or "",
                include_byok_in_limit=body.get("include_byok_in_limit", False),
                expires_at=body.get("expires_at"),
            )
        usage = usage_of([new.row])[new.row.hash]
        return Response(
            {"data": key_json(new.row, usage), "key": new.key}, status=status.HTTP_201_CREATED
        )


class KeyDetailView(KeyApiView):
    def _own_key(self, request: Request, key_hash: str) -> ApiKey:
        # Another account's key is "not found": its existence is none of the caller's business.
        owner = request_key(request).user_id
        key = ApiKey.objects.filter(hash=key_hash.lower(), user_id=owner).first()
        if key is None:
            raise ApiError(404, "Key not found")
        return key

    def get(self, request: Request, key_hash: str) -> Response:
        key = self._own_key(request, key_hash)
        return Response({"data": key_json(key, usage_of([key])[key.hash])})

    def patch(self, request: Request, key_hash: str) -> Response:
        body = _valid(KeyUpdate, request.data)
        with transaction.atomic():
            key = self._own_key(request, key_hash)
            key_rules.update_key(key, **body)
        return Response({"data": key_json(key, usage_of([key])[key.hash])})

    def delete(self, request: Request, key_hash: str) -> Response:
        key_rules.delete_key(self._own_key(request, key_hash))
        return Response({"deleted": True})


class ExchangeCodeView(APIView):
    """No key needed: the code and its verifier are the credential."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def post(self, request: Request) -> Response:
        body = _valid(CodeExchange, request.data)
        try:
            new = oauth.exchange_code(
                body["code"], body.get("code_verifier"), body.get("code_challenge_method")
            )
        except oauth.OAuthError as exc:
            raise ApiError(exc.status, exc.message) from None
        return Response({"key": new.key, "user_id": user_ref(new.row.user_id)})


class CreateCodeView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsInferenceKey]

    def post(self, request: Request) -> Response:
        body = _valid(CodeCreate, request.data)
        terms = oauth.KeyTerms(
            label=body.get("key_label", ""),
            limit=body.get("limit"),
            limit_reset=body.get("usage_limit_type") or "",
            expires_at=body.get("expires_at"),
        )
        try:
            code, row = oauth.issue_code(
                request_key(request).user,
                body["callback_url"],
                code_challenge=body.get("code_challenge", ""),
                code_challenge_method=body.get("code_challenge_method"),
                app_name=body.get("key_label", ""),
                terms=terms,
            )
        except oauth.InvalidCallback as exc:
            raise ApiError(400, str(exc)) from None
        except oauth.OAuthError as exc:
            raise ApiError(exc.status, exc.message) from None
        return Response(
            {"data": {"id": code, "app_id": row.app_id, "created_at": iso(row.created_at)}}
        )
