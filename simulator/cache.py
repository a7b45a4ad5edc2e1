"""A provider-side prompt cache, per simulated provider and model.

- Explicit (Anthropic `cache_control` breakpoints, or its top-level automatic mode): the prefix
  up to the longest breakpoint is written (reported as cache-creation tokens, less what was
  read) and a later request reads the longest cached prefix that ends at a message boundary
  up to its last breakpoint (cache-read tokens). TTL 5 minutes, or 1 hour with `ttl: "1h"`;
  each hit refreshes it.
- Implicit (OpenAI, Gemini): every message-boundary prefix of a long prompt is remembered for
  5 minutes; a repeat reports the longest cached prefix as cached tokens; writes are free.

Prefixes shorter than the minimum (1,024 tokens, as for most real models) are never cached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from simulator.engine import Conversation, prefix_fingerprint, prefix_tokens
from simulator.text import seed_from

MINIMUM_TOKENS = 1024
DEFAULT_TTL_S = 300.0


@dataclass
class CacheRequest:
    points: list[int]  # prefix ends, in messages (0 = system and tools only)
    explicit: bool
    ttl_s: float = DEFAULT_TTL_S


@dataclass
class PromptCache:
    entries: dict[int, float] = field(default_factory=dict)  # prefix key -> expiry

    def clear(self) -> None:
        self.entries.clear()

    def use(self, provider: str, model: str, conv: Conversation, request: CacheRequest,
            now: float | None = None) -> tuple[int, int]:
        """(tokens read from the cache, tokens written to it) for this request."""
        now = time.time() if now is None else now
        read = longest = 0
        # Like Anthropic, a breakpoint also finds hits at the earlier message boundaries.
        last = max(request.points, default=0)
        for end in range(0, last + 1):
            tokens = prefix_tokens(conv, end)
            if tokens < MINIMUM_TOKENS:
                continue
            key = seed_from(provider, model, prefix_fingerprint(conv, end))
            hit = self.entries.get(key, 0.0) > now
            if hit:
                read = max(read, tokens)
            if end in request.points:
                longest = max(longest, tokens)
                self.entries[key] = now + request.ttl_s
            elif hit:
                self.entries[key] = now + request.ttl_s  # a hit refreshes the entry
        written = max(0, longest - read) if request.explicit else 0
        return read, written
