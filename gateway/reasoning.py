"""The `reasoning` request object, normalised, and the `reasoning_details` it produces.

One request shape (`reasoning: {effort | max_tokens, exclude, enabled}`, the top-level
`reasoning_effort`, legacy `include_reasoning`) is mapped by each adapter onto its provider:
OpenAI effort, Anthropic thinking budget, Gemini thinking config. Effort ratios of the
request's `max_tokens` turn an effort into a budget and back.
"""

from dataclasses import dataclass
from typing import Any, Literal

from gateway.errors import bad_request

EFFORTS = ("max", "xhigh", "high", "medium", "low", "minimal", "none")
RATIOS = {"max": 0.95, "xhigh": 0.95, "high": 0.8, "medium": 0.5, "low": 0.2, "minimal": 0.1}
ANTHROPIC_MIN_BUDGET = 1024
ANTHROPIC_MAX_BUDGET = 128000
ANTHROPIC = "anthropic-claude-v1"
GEMINI = "google-gemini-v1"
OPENAI = "openai-responses-v1"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reasoning:
    effort: str | None  # None with no budget either = the provider's default
    max_tokens: int | None
    exclude: bool

    def budget(self, max_tokens: int) -> int:
        """A token budget: the explicit one, else the effort's share of `max_tokens`."""
        if self.max_tokens:
            return self.max_tokens
        return int(max_tokens * RATIOS.get(self.effort or "medium", 0.5))

    def effort_for(self, max_tokens: int) -> str:
        """An effort level: the explicit one, else the ratio nearest to budget/max_tokens."""
        if self.effort:
            return self.effort
        if not self.max_tokens:
            return "medium"
        ratio = self.max_tokens / max(max_tokens, 1)
        return min(("high", "medium", "low", "minimal"), key=lambda e: abs(RATIOS[e] - ratio))


def anthropic_budget(wanted: Reasoning, max_tokens: int) -> int:
    """Claude's `budget_tokens`: the request's budget or effort share, within Claude's bounds."""
    budget = wanted.budget(max_tokens)
    return max(min(budget, ANTHROPIC_MAX_BUDGET), ANTHROPIC_MIN_BUDGET)


def upstream_max_tokens(body: dict[str, Any], api_format: str, max_tokens: int) -> int:
    """The completion limit the provider is actually given. Claude refuses a `max_tokens` not
    above the thinking budget, so it is raised to budget + requested: the hold must cover
    that figure, since the provider may produce (and bill) that many tokens."""
    if api_format != "anthropic":
        return max_tokens
    wanted = requested(body)
    if not wanted:
        return max_tokens
    budget = anthropic_budget(wanted, max_tokens)
    return budget + max_tokens if max_tokens <= budget else max_tokens


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(body: dict[str, Any]) -> None:
    """400 on a malformed reasoning request; called once when the request is parsed."""
    spec = body.get("reasoning")
    if spec is not None:
        if not isinstance(spec, dict):
            raise bad_request("'reasoning' must be an object")
        effort = spec.get("effort")
        if effort is not None and effort not in EFFORTS:
            raise bad_request(f"'reasoning.effort' must be one of {', '.join(EFFORTS)}")
        budget = spec.get("max_tokens")
        if budget is not None and (not _is_int(budget) or budget < 0):
            raise bad_request("'reasoning.max_tokens' must be a non-negative integer")
        if effort is not None and budget is not None:
            raise bad_request("Send 'reasoning.effort' or 'reasoning.max_tokens', not both")
        for flag in ("exclude", "enabled"):
            if spec.get(flag) is not None and not isinstance(spec[flag], bool):
                raise bad_request(f"'reasoning.{flag}' must be a boolean")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise bad_request(f"'reasoning_effort' must be one of {', '.join(EFFORTS)}")


def requested(body: dict[str, Any]) -> Reasoning | Literal[False] | None:
    """What the client asked for: a Reasoning to turn thinking on, False to turn it off,
    None when it did not say (the provider's default applies)."""
    spec = body.get("reasoning")
    effort = body.get("reasoning_effort")
    legacy = body.get("include_reasoning")
    if spec is None and effort is None and legacy is None:
        return None
    if not isinstance(spec, dict):
        spec = {}
    if legacy is False and "exclude" not in spec:
        spec = {**spec, "exclude": True}
    effort = spec.get("effort") or effort
    if effort == "none" or spec.get("enabled") is False:
        return False
    budget = spec.get("max_tokens")
    return Reasoning(effort if isinstance(effort, str) else None,
                     budget if isinstance(budget, int) and budget > 0 else None,
                     bool(spec.get("exclude")))


def excluded(body: dict[str, Any]) -> bool:
    spec = body.get("reasoning")
    return (isinstance(spec, dict) and spec.get("exclude") is True) or \
        body.get("include_reasoning") is False


def text_detail(text: str, fmt: str, index: int = 0, signature: str | None = None
                ) -> dict[str, Any]:
    return {"type": "reasoning.text", "text": text, "signature": signature, "id": None,
            "format": fmt, "index": index}


def encrypted_detail(data: str, fmt: str, index: int = 0, detail_id: str | None = None
                     ) -> dict[str, Any]:
    return {"type": "reasoning.encrypted", "data": data, "id": detail_id, "format": fmt,
            "index": index}


def details_of(message: dict[str, Any], fmt: str) -> list[dict[str, Any]]:
    """The reasoning details of an assistant turn sent back by the client, in this format."""
    details = message.get("reasoning_details")
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and d.get("format", fmt) == fmt]


def apply_exclude(body: dict[str, Any], message: dict[str, Any]) -> None:
    """`exclude: true`: the model reasons (and is billed for it) but nothing is returned."""
    if excluded(body):
        message["reasoning"] = None
        message.pop("reasoning_details", None)


def exclude_deltas(deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for delta in deltas:
        delta.pop("reasoning", None)
        delta.pop("reasoning_details", None)
        if delta:
            out.append(delta)
    return out
