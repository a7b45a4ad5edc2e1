"""A usage event (the JSON of docs/gateway-state.md) read into a Generation's column values.

Every field is checked for presence and type: an event that cannot become a Generation raises
MalformedEvent, which the consumer stores as a dead letter instead of a row. The consumer
copies the values straight into the table (rankings/ingest.py); building a model instance per
event would cost more than everything else it does with the event.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from usage.models import Generation


class MalformedEvent(ValueError):
    """The event cannot be turned into a Generation; the message says why."""


def _field(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in event:
        raise MalformedEvent(f"missing field {name!r}")
    return _typed(event, name, kind)


def _typed(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = event.get(name)
    # bool is an int in Python; a count of True tokens is still a bug in the producer.
    if isinstance(value, bool) and kind is not bool:
        raise MalformedEvent(f"field {name!r} must be {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise MalformedEvent(f"field {name!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _optional(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    return None if event.get(name) is None else _typed(event, name, kind)


def _text(event: dict[str, Any], name: str) -> str:
    return _optional(event, name, str) or ""


def _count(event: dict[str, Any], name: str) -> int:
    value = _field(event, name, int)
    if not 0 <= value < 2**63:
        raise MalformedEvent(f"field {name!r} out of range: {value}")
    return int(value)


def _millis(event: dict[str, Any], name: str) -> int | None:
    value = _optional(event, name, (int, float))
    if value is None:
        return None
    if not 0 <= value < 2**31:
        raise MalformedEvent(f"field {name!r} out of range: {value}")
    return round(value)


def _cost(event: dict[str, Any]) -> Decimal:
    text = _field(event, "cost", str)
    nanos = _field(event, "cost_nanos", int)
    try:
        cost = Decimal(text)
    except InvalidOperation:
        raise MalformedEvent(f"field 'cost' is not a decimal: {text!r}") from None
    # The ledger and the Redis counters must agree to the nano-dollar: a cost that is not
    # exactly its nano-dollars is a producer bug, surfaced rather than rounded away.
    if not cost.is_finite() or cost != Decimal(nanos).scaleb(-9):
        raise MalformedEvent(f"cost {text!r} does not equal cost_nanos {nanos} / 1e9")
    if not 0 <= nanos < 10**20:
        raise MalformedEvent(f"cost_nanos out of range: {nanos}")
    return Decimal(nanos).scaleb(-9)


def columns(event: Any) -> dict[str, Any]:
    """A Generation's values by attribute name, from a decoded event; `recorded_at` is left to
    the writer."""
    if not isinstance(event, dict):
        raise MalformedEvent("the event is not a JSON object")
    generation_id = _field(event, "id", str)
    if not generation_id.startswith("gen-") or len(generation_id) > 100:
        raise MalformedEvent(f"not a generation id: {generation_id[:120]!r}")
    created = _field(event, "created_at", (int, float))
    try:
        created_at = datetime.fromtimestamp(created, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"field 'created_at' is not a unix time: {created!r}") from None
    categories = _optional(event, "app_categories", list) or []
    if not all(isinstance(item, str) for item in categories):
        raise MalformedEvent("field 'app_categories' must be a list of strings")
    responses = _optional(event, "provider_responses", list)
    parent_id = _optional(event, "parent_id", str)
    if parent_id is not None and (not parent_id.startswith("gen-") or len(parent_id) > 100):
        raise MalformedEvent(f"not a parent generation id: {parent_id[:120]!r}")
    throughput = _optional(event, "throughput", (int, float))
    return dict(
        id=generation_id,
        user_id=_field(event, "user_id", int),
        key_id=_optional(event, "key_id", int),
        key_hash=_text(event, "key_hash"),
        model=_field(event, "model", str),
        endpoint_id=_optional(event, "endpoint_id", int),
        provider=_text(event, "provider"),
        provider_name=_text(event, "provider_name"),
        api_type=_optional(event, "api_type", str) or "completions",
        streamed=_field(event, "streamed", bool),
        cancelled=_optional(event, "cancelled", bool) or False,
        status=_field(event, "status", int),
        finish_reason=_text(event, "finish_reason"),
        native_finish_reason=_text(event, "native_finish_reason"),
        tokens_prompt=_count(event, "tokens_prompt"),
        tokens_completion=_count(event, "tokens_completion"),
        tokens_reasoning=_count(event, "tokens_reasoning") if "tokens_reasoning" in event else 0,
        tokens_cached=_count(event, "tokens_cached") if "tokens_cached" in event else 0,
        cost=_cost(event),
        byok_usage=Decimal(_count(event, "byok_usage_nanos")).scaleb(-9)
        if "byok_usage_nanos" in event else Decimal(0),
        latency_ms=_millis(event, "latency_ms"),
        ttft_ms=_millis(event, "ttft_ms"),
        generation_time_ms=_millis(event, "generation_time_ms"),
        throughput=None if throughput is None else float(throughput),
        http_referer=_text(event, "http_referer"),
        app_title=_text(event, "app_title"),
        app_categories=categories,
        external_user=_text(event, "external_user"),
        session_id=_text(event, "session_id"),
        upstream_id=_text(event, "upstream_id"),
        service_tier=_text(event, "service_tier"),
        provider_responses=responses,
        parent_id=parent_id,
        virtual=_optional(event, "virtual", bool) or False,
        num_search_results=_count(event, "num_search_results")
        if event.get("num_search_results") is not None else None,
        web_search_engine=_text(event, "web_search_engine"),
        created_at=created_at,
    )


def parse_event(event: Any) -> Generation:
    """An unsaved Generation from a decoded event (the JSON of docs/gateway-state.md)."""
    return Generation(**columns(event))


def parse_raw(raw: str | bytes) -> Generation:
    return parse_event(decode(raw))


def read_raw(raw: str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Generation's column values and the decoded event they came from (which may carry
    its content)."""
    event = decode(raw)
    return columns(event), event


def decode(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"invalid JSON: {exc}") from None
