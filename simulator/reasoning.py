"""Thinking and tool-call habits shared by every wire format.

- Signatures: Anthropic signs each thinking block and Gemini returns opaque thought
  signatures; both must come back unchanged on the next turn. The simulator signs with an
  HMAC so it can refuse a block that was edited or invented, as the real APIs do.
- Effort levels become a thinking budget, the way OpenRouter's ratios describe.
- "Several things" in the last user turn make the model call tools in parallel.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_KEY = b"simulator-thinking-signature"
# Thinking budgets for effort levels (tokens); the planned thinking is capped by the budget.
EFFORT_BUDGET = {"minimal": 16, "low": 24, "medium": 40, "high": 56, "xhigh": 64, "max": 64}
MAX_PARALLEL = 4
_SEVERAL_RE = re.compile(r"\b(both|each|all of|every one)\b", re.IGNORECASE)
_LIST_RE = re.compile(r"\band\b|\n\s*[-*\d]", re.IGNORECASE)
_SPLIT_RE = re.compile(r",|;|\n\s*[-*\d]|\band\b", re.IGNORECASE)


def sign(text: str) -> str:
    """Anthropic-style signature of one thinking block."""
    digest = hmac.new(_KEY, text.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"sig1" + digest).decode()


def verify(text: str, signature: object) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(signature, sign(text))


def thought_signature(nonce: str) -> str:
    """Gemini-style opaque signature: self-verifying, since the thought text is not resent."""
    raw = nonce.encode()[:32]
    digest = hmac.new(_KEY, raw, hashlib.sha256).digest()
    return base64.b64encode(bytes([len(raw)]) + raw + digest).decode()


def thought_signature_valid(signature: object) -> bool:
    if not isinstance(signature, str):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    if not raw:
        return False
    size = raw[0]
    nonce, digest = raw[1 : 1 + size], raw[1 + size :]
    return hmac.compare_digest(digest, hmac.new(_KEY, nonce, hashlib.sha256).digest())


def budget_for_effort(effort: object) -> int | None:
    """None = no thinking (effort "none" or unknown)."""
    return EFFORT_BUDGET.get(effort) if isinstance(effort, str) else None


def parallel_count(text: str) -> int:
    """How many things the user asks for at once: "both" is two, a list is its items."""
    items = [p for p in _SPLIT_RE.split(text) if p.strip(" ?.!:\n")]
    if _SEVERAL_RE.search(text):
        return max(2, min(len(items), MAX_PARALLEL))
    # A comma alone is often just punctuation; "and" or a bulleted list names several items.
    if _LIST_RE.search(text) and len(items) >= 2:
        return min(len(items), MAX_PARALLEL)
    return 1
