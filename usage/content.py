"""Generation content: a generation's input and output, stored compressed when its account had
prompt logging on at request time (the gateway decides, gateway/content.py).

The way in for everything that reads or writes it: the consumer stores it (`from_event`), the
API and the /activity page read it (`content_of`), prompt classification reads the prompts
(`prompts_of`), and the retention job deletes what is older than GENERATION_CONTENT_DAYS
(`delete_expired`).
"""

import base64
import binascii
import json
import logging
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from config import gateway_state
from config.redis import get_redis
from usage.models import Generation, GenerationContent

logger = logging.getLogger(__name__)

# Bound the size of one decompressed content: a corrupt or hostile blob must not eat memory.
MAX_DECOMPRESSED = 32 * 1024 * 1024


def from_event(event: dict[str, Any], generation_id: str, user_id: int | None,
               created_at: datetime) -> GenerationContent | None:
    """The content row an event carries, or None (no content, or one that cannot be read: the
    generation is stored all the same)."""
    packed = event.get("content")
    if packed is None or user_id is None:
        return None
    try:
        data = base64.b64decode(packed, validate=True) if isinstance(packed, str) else None
    except (binascii.Error, ValueError):
        data = None
    if not data:
        logger.warning("generation %s: unreadable content dropped", generation_id)
        return None
    return GenerationContent(generation_id=generation_id, user_id=user_id,
                             created_at=created_at, data=data)


def store(rows: Sequence[GenerationContent], owners: Mapping[str, int | None]) -> None:
    """Insert the content rows of generations that still have their owner (`owners`: the
    batch's generation ids and their accounts; a deleted account's content is not kept); a
    re-delivered one is skipped."""
    if not rows:
        return
    kept = [row for row in rows if owners.get(row.generation_id) == row.user_id]
    GenerationContent.objects.bulk_create(kept, ignore_conflicts=True)


def decode(data: bytes | memoryview) -> dict[str, Any] | None:
    try:
        decompressor = zlib.decompressobj()
        raw = decompressor.decompress(bytes(data), MAX_DECOMPRESSED)
        value = json.loads(raw)
    except (zlib.error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def content_of(generation_id: str, user_id: int) -> dict[str, Any] | None:
    """The stored content of one of the account's generations, or None. Before the consumer has
    stored it, the gateway's copy of the usage event in Redis (kept a day) answers."""
    row = GenerationContent.objects.filter(generation_id=generation_id, user_id=user_id).first()
    if row is not None:
        return decode(row.data)
    raw = get_redis().get(gateway_state.generation(user_id, generation_id))
    try:
        event = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("user_id") != user_id:
        return None
    pending = from_event(event, generation_id, user_id, timezone.now())
    return None if pending is None else decode(pending.data)


def failure_of(generation: Generation, content: dict[str, Any]) -> dict[str, Any] | None:
    """GenerationContentError of a generation that ended in an error, else None: the message
    the client got (when the content kept it) and every failed attempt before it."""
    attempts = [a for a in generation.provider_responses or ()
                if isinstance(a, dict) and a.get("status") not in (None, 200)]
    error = content.get("error") if isinstance(content.get("error"), dict) else None
    if error is None and generation.status < 400 and generation.finish_reason != "error":
        return None
    return {
        "status": generation.status if generation.status >= 400 else 502,
        "message": (error or {}).get("message"),
        "provider_name": generation.provider_name or None,
        "raw": None,
        "previous_errors": [
            {"code": int(a["status"]), "message": f"HTTP {a['status']}",
             "provider_name": a.get("provider_name") or a.get("provider"), "raw": None}
            for a in attempts if isinstance(a.get("status"), int)
        ],
    }


def prompts_of(generation_ids: Iterable[str]) -> dict[str, str]:
    """The user-visible prompt text of each generation that has stored content: the messages'
    text parts joined (or the legacy prompt); generations without content are absent."""
    prompts: dict[str, str] = {}
    for row in GenerationContent.objects.filter(generation_id__in=list(generation_ids)):
        content = decode(row.data)
        if content is not None:
            prompts[row.generation_id] = prompt_text(content.get("input"))
    return prompts


def prompt_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("prompt"), str):
        return str(value["prompt"])
    parts: list[str] = []
    for message in value.get("messages") or ():
        if not isinstance(message, dict) or message.get("role") not in ("user", "system"):
            continue
        body = message.get("content")
        if isinstance(body, str):
            parts.append(body)
        elif isinstance(body, list):
            parts += [p["text"] for p in body
                      if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(parts)


def _text_of(body: Any) -> str:
    """A message's content as text: its text parts, other parts named in brackets."""
    if isinstance(body, str):
        return body
    if not isinstance(body, list):
        return "" if body is None else json.dumps(body)
    parts = []
    for part in body:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif isinstance(part, dict):
            parts.append(f"[{part.get('type') or 'part'}]")
    return "\n".join(parts)


def for_page(content: dict[str, Any]) -> dict[str, Any]:
    """What a generation's page shows: each input message as (role, text), then the output."""
    found = content.get("input")
    given: dict[str, Any] = found if isinstance(found, dict) else {}
    if isinstance(given.get("prompt"), str):
        messages = [("prompt", given["prompt"])]
    else:
        messages = [(str(m.get("role") or "?"), _text_of(m.get("content")))
                    for m in given.get("messages") or () if isinstance(m, dict)]
    data = api_data(content, None)["output"]
    failed = content.get("error")
    error: dict[str, Any] = failed if isinstance(failed, dict) else {}
    return {
        "messages": messages,
        "completion": data["completion"],
        "reasoning": data["reasoning"],
        "tool_calls": [json.dumps(call, indent=2) for call in data.get("tool_calls") or ()],
        "error": error.get("message"),
        "truncated": bool(content.get("truncated")),
    }


def api_data(content: dict[str, Any], failure: dict[str, Any] | None) -> dict[str, Any]:
    """The `data` of GET /api/v1/generation/content (GenerationContentData)."""
    value = content.get("input")
    if isinstance(value, dict) and isinstance(value.get("prompt"), str):
        given: dict[str, Any] = {"prompt": value["prompt"]}
    else:
        messages = value.get("messages") if isinstance(value, dict) else None
        given = {"messages": messages if isinstance(messages, list) else []}
    found = content.get("output")
    out: dict[str, Any] = found if isinstance(found, dict) else {}
    output: dict[str, Any] = {
        "completion": out.get("completion") if isinstance(out.get("completion"), str) else None,
        "reasoning": out.get("reasoning") if isinstance(out.get("reasoning"), str) else None,
    }
    if isinstance(out.get("tool_calls"), list):
        output["tool_calls"] = out["tool_calls"]
    return {"input": given, "output": output, "error": failure}


def delete_expired(now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete content older than GENERATION_CONTENT_DAYS, in batches (short locks); returns
    how many rows went. Running it again deletes nothing more."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.GENERATION_CONTENT_DAYS)
    expired = GenerationContent.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch]):
        deleted += GenerationContent.objects.filter(pk__in=ids).delete()[0]
    return deleted
