"""Per-provider behaviour knobs, their defaults, and the log of recent requests.

Defaults come from the JSON file named by ``SIMULATOR_CONFIG`` (if any)::

    {"defaults": {"ttft_ms": [0, 20]},
     "providers": {"anthropic": {"tokens_per_second": 60, "error_rate": 0.02}}}

and can be changed at run time through ``PUT /_control/providers/{provider}``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


class KnobError(ValueError):
    pass


MALFORMED_KINDS = ("truncated", "trailing_text", "code_fence", "single_quotes")


@dataclass
class Knobs:
    # [min, max] milliseconds before the first token; a single number means fixed.
    ttft_ms: list[float] = field(default_factory=lambda: [0.0, 20.0])
    # Output speed; at 0 or very high rates no per-token sleeps happen at all.
    tokens_per_second: float = 5000.0
    # Length of an unconstrained text answer, [min, max] tokens.
    completion_tokens: list[int] = field(default_factory=lambda: [16, 64])
    # Probability of a 5xx before any output, with the status drawn from error_statuses
    # (empty = the provider format's usual ones).
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=list)
    # Probability of a 429, sent with this retry-after (seconds).
    rate_limit_rate: float = 0.0
    retry_after_s: int = 1
    # Unavailable while now < down_until or inside any [start, end] (unix seconds).
    down_until: float | None = None
    outages: list[list[float]] = field(default_factory=list)
    # Streams break with an in-band error after this many tokens (None = never) ...
    fail_after_tokens: int | None = None
    # ... or, with this probability, at a random point.
    midstream_failure_rate: float = 0.0
    # Probability that an answer is degraded (quality screening): a known-answer question is
    # answered wrong, JSON output is cut short, tool-call arguments are malformed JSON.
    degraded_rate: float = 0.0
    # Probability that an answer to a JSON-output request (response_format json_object or
    # json_schema) comes back malformed, in one of `malformed_json_kinds` drawn at random:
    # truncated, trailing_text (prose after it), code_fence (in a markdown fence),
    # single_quotes (Python-style quoting).
    malformed_json_rate: float = 0.0
    malformed_json_kinds: list[str] = field(default_factory=lambda: list(MALFORMED_KINDS))
    # Seeds the fault dice (not the text: that is seeded by the request itself).
    seed: int = 0
    # When set, requests must carry this key the way the real API expects it.
    api_key: str | None = None
    # When set, other model names get the format's 404.
    models: list[str] | None = None
    # OpenAI format only: reject parameters outside OpenAI's own list. None = strict for
    # the openai and azure slugs, lenient (top_k, min_p, ...) for open-model hosts.
    strict_params: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def ttft_range(self) -> tuple[float, float]:
        lo, hi = self.ttft_ms[0], self.ttft_ms[-1]
        return float(lo), float(hi)

    def is_down(self, now: float) -> bool:
        if self.down_until is not None and now < self.down_until:
            return True
        return any(start <= now < end for start, end in self.outages)


_FIELDS = {f.name: f for f in dataclasses.fields(Knobs)}


def _coerce(name: str, value: Any) -> Any:
    """Validate one knob value from JSON; a typo in a test should fail loudly."""

    def bad(expected: str) -> KnobError:
        return KnobError(f"knob {name!r}: expected {expected}, got {value!r}")

    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise bad("a number")
        return float(v)

    if name in {"ttft_ms", "completion_tokens"}:
        items = value if isinstance(value, list) else [value]
        if not 1 <= len(items) <= 2:
            raise bad("a number or [min, max]")
        nums = [number(v) for v in items]
        if len(nums) == 1:
            nums = nums * 2
        if nums[0] < 0 or nums[1] < nums[0]:
            raise bad("0 <= min <= max")
        return [int(n) for n in nums] if name == "completion_tokens" else nums
    if name in {"error_rate", "rate_limit_rate", "midstream_failure_rate", "degraded_rate",
                "malformed_json_rate"}:
        rate = number(value)
        if not 0 <= rate <= 1:
            raise bad("a probability between 0 and 1")
        return rate
    if name == "tokens_per_second":
        tps = number(value)
        if tps < 0:
            raise bad("a non-negative number")
        return tps
    if name in {"retry_after_s", "seed"}:
        return int(number(value))
    if name == "fail_after_tokens":
        return None if value is None else int(number(value))
    if name == "down_until":
        return None if value is None else number(value)
    if name == "outages":
        if not isinstance(value, list):
            raise bad("a list of [start, end]")
        out = []
        for window in value:
            if not isinstance(window, list) or len(window) != 2:
                raise bad("a list of [start, end]")
            out.append([number(window[0]), number(window[1])])
        return out
    if name == "error_statuses":
        if not isinstance(value, list) or not all(
            isinstance(s, int) and 500 <= s <= 599 for s in value
        ):
            raise bad("a list of 5xx status codes")
        return list(value)
    if name == "malformed_json_kinds":
        if not isinstance(value, list) or not value or not all(
            k in MALFORMED_KINDS for k in value
        ):
            raise bad(f"a non-empty list of {', '.join(MALFORMED_KINDS)}")
        return list(value)
    if name == "api_key":
        if value is not None and not isinstance(value, str):
            raise bad("a string or null")
        return value
    if name == "models":
        if value is not None and not (
            isinstance(value, list) and all(isinstance(m, str) for m in value)
        ):
            raise bad("a list of model names or null")
        return value
    if name == "strict_params":
        if value is not None and not isinstance(value, bool):
            raise bad("true, false or null")
        return value
    raise KnobError(f"unknown knob {name!r}")  # pragma: no cover


def apply(knobs: Knobs, patch: Any) -> Knobs:
    if not isinstance(patch, dict):
        raise KnobError("knobs must be a JSON object")
    unknown = sorted(set(patch) - set(_FIELDS))
    if unknown:
        raise KnobError(f"unknown knob(s): {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
    changes = {name: _coerce(name, value) for name, value in patch.items()}
    return dataclasses.replace(knobs, **changes)


@dataclass
class RequestRecord:
    id: str
    provider: str
    api_format: str
    model: str
    streamed: bool
    started_at: float
    status: int = 200
    error: str | None = None
    prompt_tokens: int = 0
    # What the answer would have been if nobody interrupted it ...
    planned_tokens: int = 0
    # ... and what was actually produced before the end, a failure or a disconnect.
    completion_tokens: int = 0
    finish_reason: str | None = None
    client_disconnected: bool = False
    done: bool = False
    # Thought signatures the request carried back (Gemini format).
    signatures: list[str] = field(default_factory=list)
    ended_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Store:
    """Knobs per provider, fault dice per provider and a bounded request log."""

    def __init__(self, config: dict[str, Any] | None = None, log_size: int = 500) -> None:
        config = config or {}
        unknown = sorted(set(config) - {"defaults", "providers"})
        if unknown:
            raise KnobError(f"unknown config section(s): {', '.join(unknown)}")
        self._base = apply(Knobs(), config.get("defaults") or {})
        self._file_providers = {
            slug: apply(self._base, patch)
            for slug, patch in (config.get("providers") or {}).items()
        }
        self._log_size = log_size
        self.reset()

    @classmethod
    def from_env(cls) -> Store:
        path = os.environ.get("SIMULATOR_CONFIG")
        if not path:
            return cls()
        return cls(orjson.loads(Path(path).read_bytes()))

    def reset(self) -> None:
        self._providers: dict[str, Knobs] = dict(self._file_providers)
        self._dice: dict[str, random.Random] = {}
        self._log: dict[str, deque[RequestRecord]] = {}
        self._by_id: dict[str, RequestRecord] = {}

    def knobs(self, provider: str) -> Knobs:
        return self._providers.get(provider, self._base)

    def all_knobs(self) -> dict[str, Any]:
        return {
            "defaults": self._base.to_json(),
            "providers": {slug: k.to_json() for slug, k in sorted(self._providers.items())},
        }

    def update(self, provider: str, patch: Any) -> Knobs:
        knobs = apply(self.knobs(provider), patch)
        self._providers[provider] = knobs
        self._dice.pop(provider, None)  # a new seed restarts the dice sequence
        return knobs

    def revert(self, provider: str) -> Knobs:
        self._providers.pop(provider, None)
        if provider in self._file_providers:
            self._providers[provider] = self._file_providers[provider]
        self._dice.pop(provider, None)
        return self.knobs(provider)

    def dice(self, provider: str) -> random.Random:
        rng = self._dice.get(provider)
        if rng is None:
            rng = self._dice[provider] = random.Random(f"{provider}:{self.knobs(provider).seed}")
        return rng

    def record(self, rec: RequestRecord) -> None:
        log = self._log.setdefault(rec.provider, deque(maxlen=self._log_size))
        if len(log) == log.maxlen:
            self._by_id.pop(log[0].id, None)
        log.append(rec)
        self._by_id[rec.id] = rec

    def get_record(self, request_id: str) -> RequestRecord | None:
        return self._by_id.get(request_id)

    def records(self, provider: str | None = None, limit: int = 100) -> list[RequestRecord]:
        if provider is not None:
            recs = list(self._log.get(provider, ()))
        else:
            recs = sorted(
                (r for log in self._log.values() for r in log), key=lambda r: r.started_at
            )
        return recs[-limit:] if limit > 0 else []


def now() -> float:
    return time.time()
