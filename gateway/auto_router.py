"""The auto router: `openrouter/auto` (and `openmarket/auto`) picks the model from the prompt.

The local classifier (gateway/classifier.py) gives the request a category and a difficulty; the
routing table maps them to models, best first, the rest of the category's models and a general
tail as fallbacks. `plugins: [{"id": "auto-router", "allowed_models": [...],
"excluded_models": [...]}]` limits the choice with `*` patterns (reference §21.6). The request
is then routed like any other with `models` = that list, so the response's `model` is the model
that answered and it is billed as that model.
"""

import fnmatch
import re
from functools import lru_cache
from typing import Any

from gateway.catalog import Snapshot
from gateway.classifier import Classification, classify, prompt_text
from gateway.errors import GatewayError, bad_request
from gateway.request import ChatRequest

ROUTER_IDS = frozenset({"openrouter/auto", "openmarket/auto"})
PLUGIN_ID = "auto-router"
MAX_PATTERNS = 1024
MAX_PATTERN_CHARS = 1024
MAX_TOTAL_CHARS = 65536

# category -> difficulty -> models, best first. Chosen from the shipped catalog by what each
# model is known for and its price: cheap and fast for easy prompts, frontier models for hard.
TABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "programming": {
        "easy": ("qwen/qwen-2.5-coder-32b-instruct", "mistralai/codestral-2508"),
        "medium": ("qwen/qwen3-coder", "deepseek/deepseek-chat-v3.1"),
        "hard": ("anthropic/claude-sonnet-4.5", "openai/gpt-5"),
    },
    "roleplay": {
        "easy": ("gryphe/mythomax-l2-13b", "nousresearch/hermes-4-70b"),
        "medium": ("sao10k/l3.1-euryale-70b", "nousresearch/hermes-4-70b"),
        "hard": ("anthropic/claude-sonnet-4.5", "nousresearch/hermes-4-405b"),
    },
    "creative_writing": {
        "easy": ("meta-llama/llama-3.3-70b-instruct", "mistralai/mistral-small-3.2-24b-instruct"),
        "medium": ("moonshotai/kimi-k2-0905", "meta-llama/llama-4-maverick"),
        "hard": ("anthropic/claude-opus-4.5", "anthropic/claude-sonnet-4.5"),
    },
    "translation": {
        "easy": ("google/gemini-2.5-flash-lite", "openai/gpt-4o-mini"),
        "medium": ("google/gemini-2.5-flash", "qwen/qwen3-235b-a22b-2507"),
        "hard": ("google/gemini-2.5-pro", "openai/gpt-4.1"),
    },
    "finance": {
        "easy": ("openai/gpt-4.1-mini", "google/gemini-2.5-flash"),
        "medium": ("openai/gpt-5-mini", "deepseek/deepseek-chat-v3.1"),
        "hard": ("openai/gpt-5", "anthropic/claude-sonnet-4.5"),
    },
    "legal": {
        "easy": ("openai/gpt-4.1-mini", "anthropic/claude-haiku-4.5"),
        "medium": ("anthropic/claude-haiku-4.5", "openai/gpt-5-mini"),
        "hard": ("anthropic/claude-sonnet-4.5", "openai/gpt-5"),
    },
    "health": {
        "easy": ("google/gemini-2.5-flash", "openai/gpt-4.1-mini"),
        "medium": ("openai/gpt-5-mini", "google/gemini-2.5-flash"),
        "hard": ("google/gemini-2.5-pro", "openai/gpt-5"),
    },
    "science": {
        "easy": ("deepseek/deepseek-chat-v3.1", "qwen/qwen3-32b"),
        "medium": ("qwen/qwen3-235b-a22b-2507", "openai/o4-mini"),
        "hard": ("deepseek/deepseek-r1-0528", "openai/o3"),
    },
    "marketing": {
        "easy": ("openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"),
        "medium": ("meta-llama/llama-4-maverick", "openai/gpt-4.1-mini"),
        "hard": ("anthropic/claude-sonnet-4.5", "openai/gpt-4.1"),
    },
    "general_chat": {
        "easy": ("meta-llama/llama-3.1-8b-instruct", "openai/gpt-4o-mini"),
        "medium": ("openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"),
        "hard": ("openai/gpt-4.1", "anthropic/claude-haiku-4.5"),
    },
}
# Always acceptable last resorts, when the table's picks are missing from the catalog.
TAIL = ("openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct", "google/gemini-2.0-flash",
        "anthropic/claude-3.5-haiku")
DIFFICULTY_ORDER = ("easy", "medium", "hard")


def candidates(category: str, difficulty: str) -> list[str]:
    """The table's models for this cell, then the category's other cells, then the tail."""
    row = TABLE.get(category) or TABLE["general_chat"]
    ordered = list(row[difficulty])
    for other in sorted(DIFFICULTY_ORDER, key=lambda d: abs(DIFFICULTY_ORDER.index(d)
                                                           - DIFFICULTY_ORDER.index(difficulty))):
        ordered += row[other]
    return list(dict.fromkeys([*ordered, *TAIL]))


def _patterns(plugin: dict[str, Any], name: str) -> list[str]:
    value = plugin.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise bad_request(f"'plugins[auto-router].{name}' must be an array of model patterns")
    if len(value) > MAX_PATTERNS or any(len(p) > MAX_PATTERN_CHARS for p in value) \
            or sum(map(len, value)) > MAX_TOTAL_CHARS:
        raise bad_request(f"'plugins[auto-router].{name}' is too long: at most {MAX_PATTERNS} "
                          f"patterns of {MAX_PATTERN_CHARS} characters")
    return value


@lru_cache(maxsize=4096)
def _matcher(pattern: str) -> "re.Pattern[str]":
    return re.compile(fnmatch.translate(pattern.lower()))


def _matches(model_id: str, patterns: list[str]) -> bool:
    return any(_matcher(p).match(model_id) for p in patterns)


def plugin_of(body: dict[str, Any]) -> dict[str, Any]:
    plugins = body.get("plugins")
    if isinstance(plugins, list):
        for plugin in plugins:
            if isinstance(plugin, dict) and plugin.get("id") == PLUGIN_ID:
                return plugin
    return {}


def choose(snapshot: Snapshot, body: dict[str, Any]) -> tuple[Classification, list[str]]:
    """The classification of the prompt and the models to try, best first."""
    plugin = plugin_of(body)
    allowed = _patterns(plugin, "allowed_models")
    excluded = _patterns(plugin, "excluded_models")
    found = classify(prompt_text(body.get("messages")))
    picks = candidates(found.category, found.difficulty)
    if allowed:
        # An allowlist may name models the table does not know: they are candidates too,
        # after the table's, cheapest first for easy prompts and dearest first for hard ones.
        listed = _allowed_in(snapshot, tuple(allowed), found.difficulty == "hard")
        picks = [m for m in picks if _matches(m, allowed)] + listed
    picks = [m for m in dict.fromkeys(picks)
             if m in snapshot.models and not _matches(m, excluded) and m not in ROUTER_IDS]
    if not picks:
        raise GatewayError(404, "No models match your request and model restrictions",
                           {"error_type": "not_found", "router": "openrouter/auto",
                            "task_type": found.category})
    return found, picks[:3]


_ALLOWED_CACHE: dict[tuple[int, int, tuple[str, ...], bool], list[str]] = {}


def _allowed_in(snapshot: Snapshot, allowed: tuple[str, ...], dearest_first: bool) -> list[str]:
    """The catalog's models an allowlist names, by price; cached per snapshot version, since
    an app sends the same allowlist with every request."""
    key = (id(snapshot), snapshot.version, allowed, dearest_first)
    found = _ALLOWED_CACHE.get(key)
    if found is None:
        if len(_ALLOWED_CACHE) > 1024:
            _ALLOWED_CACHE.clear()
        patterns = list(allowed)
        found = sorted((m for m in snapshot.models if _matches(m, patterns)),
                       key=lambda m: _price(snapshot, m), reverse=dearest_first)
        _ALLOWED_CACHE[key] = found
    return found


def _price(snapshot: Snapshot, model_id: str) -> float:
    endpoints = snapshot.models[model_id].endpoints
    return min((float(e.pricing.blended) for e in endpoints), default=float("inf"))


def route(snapshot: Snapshot, req: ChatRequest) -> Classification | None:
    """Rewrite an auto-routed request to the models chosen for it (None: not auto-routed)."""
    if not req.models or req.models[0] not in ROUTER_IDS:
        return None
    found, picks = choose(snapshot, req.body)
    req.models = picks
    req.body["model"] = picks[0]
    req.body.pop("models", None)
    return found
