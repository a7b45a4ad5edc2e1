"""Request validation and response shapes of the key and auth API (OpenRouter's fields)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from accounts.models import ApiKey, LimitReset
from accounts.usage import KeyUsage, limit_remaining

RESETS = [*LimitReset.values]


def user_ref(user_id: int) -> str:
    return f"user_{user_id}"


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def usage_fields(usage: KeyUsage) -> dict[str, float]:
    return {
        "usage": usage.total,
        "usage_daily": usage.daily,
        "usage_weekly": usage.weekly,
        "usage_monthly": usage.monthly,
        "byok_usage": usage.byok_total,
        "byok_usage_daily": usage.byok_daily,
        "byok_usage_weekly": usage.byok_weekly,
        "byok_usage_monthly": usage.byok_monthly,
    }


def limit_fields(key: ApiKey, usage: KeyUsage) -> dict[str, Any]:
    return {
        "limit": None if key.limit is None else float(key.limit),
        "limit_remaining": limit_remaining(key, usage),
        "limit_reset": key.limit_reset or None,
        "include_byok_in_limit": key.include_byok_in_limit,
    }


def key_json(key: ApiKey, usage: KeyUsage) -> dict[str, Any]:
    """The Key object of /keys responses."""
    return {
        "hash": key.hash,
        "name": key.name,
        "label": key.label,
        "disabled": key.disabled,
        **limit_fields(key, usage),
        **usage_fields(usage),
        "created_at": iso(key.created_at),
        "updated_at": iso(key.updated_at),
        "expires_at": iso(key.expires_at),
        "last_used_at": iso(usage.last_used),
        "workspace_id": "default",
        "creator_user_id": user_ref(key.user_id),
        "external_user": None,
    }


class UtcDateTimeField(serializers.DateTimeField):
    """OpenRouter rejects expiry times in any zone but UTC."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not (
            value.endswith("Z") or value.endswith("+00:00") or value.endswith("+0000")
        ):
            raise serializers.ValidationError("must be an ISO 8601 time in UTC (ending in Z)")
        if parsed.utcoffset() != timedelta(0):
            raise serializers.ValidationError("must be in UTC")
        return parsed


class LimitField(serializers.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_digits=20,
            decimal_places=9,
            min_value=Decimal(0),
            max_value=Decimal(10**9),
            coerce_to_string=False,
            **kwargs,
        )


class KeyCreate(serializers.Serializer):
    name = serializers.CharField(min_length=1, max_length=100)
    limit = LimitField(required=False, allow_null=True)
    limit_reset = serializers.ChoiceField(RESETS, required=False, allow_null=True)
    include_byok_in_limit = serializers.BooleanField(required=False, default=False)
    expires_at = UtcDateTimeField(required=False, allow_null=True)
    workspace_id = serializers.CharField(required=False, allow_blank=True)
    creator_user_id = serializers.CharField(required=False, allow_null=True)

    def validate_expires_at(self, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise serializers.ValidationError("must be in the future")
        return value


class KeyUpdate(serializers.Serializer):
    name = serializers.CharField(min_length=1, max_length=100, required=False)
    disabled = serializers.BooleanField(required=False)
    limit = LimitField(required=False, allow_null=True)
    limit_reset = serializers.ChoiceField(RESETS, required=False, allow_null=True)
    include_byok_in_limit = serializers.BooleanField(required=False)


class CodeExchange(serializers.Serializer):
    code = serializers.CharField(max_length=200)
    code_verifier = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=128
    )
    code_challenge_method = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=16
    )


class CodeCreate(serializers.Serializer):
    callback_url = serializers.CharField(max_length=2000)
    code_challenge = serializers.CharField(required=False, allow_blank=True, max_length=128)
    code_challenge_method = serializers.ChoiceField(["S256", "plain"], required=False)
    limit = LimitField(required=False, allow_null=True)
    usage_limit_type = serializers.ChoiceField(RESETS, required=False, allow_null=True)
    expires_at = UtcDateTimeField(required=False, allow_null=True)
    key_label = serializers.CharField(required=False, allow_blank=True, max_length=100)
    workspace_id = serializers.CharField(required=False, allow_blank=True)
