"""What a mixture of models is: the virtual models of the catalog, a preset's `moa`
definition, or the fusion plugin, read into one `Mixture`; and the prompts that join the
models' answers (MoA's aggregate-and-synthesize prompt, a critique, fusion's analysis).

The virtual models are described in marketplace/data/virtual_models.json, the file the web
side lists on /models; it ships with the code like the classifier's lexicon.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from gateway.errors import bad_request

VIRTUAL_FILE = Path(__file__).resolve().parent.parent / "marketplace" / "data" / \
    "virtual_models.json"
MAX_PROPOSERS = 8
MAX_LAYERS = 3
FUSION_PANEL = ("anthropic/claude-opus-4.7", "openai/gpt-5.2", "google/gemini-3.1-pro-preview")
FUSION_ANALYST = "anthropic/claude-opus-4.7"

AGGREGATE = (
    "You have been provided with a set of responses from various open-source models to the "
    "latest user query. Your task is to synthesize these responses into a single, high-quality "
    "response. It is crucial to critically evaluate the information provided in these "
    "responses, recognizing that some of it may be biased or incorrect. Your response should "
    "not simply replicate the given answers but should offer a refined, accurate, and "
    "comprehensive reply to the instruction. Ensure your response is well-structured, "
    "coherent, and adheres to the highest standards of accuracy and reliability.\n\n"
    "Responses from models:"
)
CRITIQUE = (
    "Several candidate answers to the latest user query follow. Critique them: for each, name "
    "its errors, omissions and strengths; then say which points are right and what the best "
    "answer must contain. Do not write the final answer."
)
ANALYSIS = (
    "Several models answered the latest user query; their answers follow. Compare them and "
    "reply with one JSON object with the keys: consensus (list of points all agree on), "
    "contradictions (list of {topic, stances: [{model, stance}]}), partial_coverage (list of "
    "{models, point}), unique_insights (list of {model, insight}), blind_spots (list of "
    "points none covered). Reply with the JSON object only."
)
FINAL_FROM_REVIEW = (
    "\n\nA review of these responses follows; use it to write the best final answer to the "
    "user.\n\nReview:\n"
)


@dataclass(frozen=True)
class Mixture:
    id: str  # what the response's `model` says
    proposers: tuple[str, ...]
    aggregator: str
    layers: int = 1
    critique: bool = False
    fusion: bool = False
    aggregator_prompt: str | None = None
    critique_prompt: str | None = None

    @property
    def reviewed(self) -> bool:
        return self.critique or self.fusion


def _definition(model_id: str, raw: Any, *, fusion: bool = False) -> Mixture:
    if not isinstance(raw, dict):
        raise bad_request("'moa' must be an object with proposers and an aggregator")
    proposers = raw.get("proposers")
    if not isinstance(proposers, list) or not 1 <= len(proposers) <= MAX_PROPOSERS or not all(
            isinstance(p, str) and p for p in proposers):
        raise bad_request(f"'moa.proposers' must name 1 to {MAX_PROPOSERS} models")
    aggregator = raw.get("aggregator")
    if not isinstance(aggregator, str) or not aggregator:
        raise bad_request("'moa.aggregator' must be a model id")
    layers = raw.get("layers", 1)
    if not isinstance(layers, int) or isinstance(layers, bool) or not 1 <= layers <= MAX_LAYERS:
        raise bad_request(f"'moa.layers' must be an integer from 1 to {MAX_LAYERS}")
    prompts = {name: raw.get(name) if isinstance(raw.get(name), str) and raw.get(name) else None
               for name in ("aggregator_prompt", "critique_prompt")}
    return Mixture(model_id, tuple(proposers), aggregator, layers,
                   critique=raw.get("critique") is True, fusion=fusion or raw.get("fusion") is True,
                   **prompts)


@cache
def virtual_models() -> dict[str, dict[str, Any]]:
    models = orjson.loads(VIRTUAL_FILE.read_bytes())["models"]
    return {m["id"]: m for m in models}


def _fusion_plugin(body: dict[str, Any]) -> dict[str, Any] | None:
    for plugin in body.get("plugins") or ():
        if isinstance(plugin, dict) and plugin.get("id") == "fusion" \
                and plugin.get("enabled") is not False:
            return plugin
    return None


def requested(body: dict[str, Any], models: list[str]) -> Mixture | None:
    """The mixture this request asks for, or None for an ordinary completion."""
    first = models[0] if models else ""
    if body.get("moa") is not None:
        return _definition(first or "moa", body["moa"])
    plugin = _fusion_plugin(body)
    virtual = virtual_models().get(first.partition(":")[0])
    if plugin is not None:
        panel = plugin.get("analysis_models") or list(FUSION_PANEL)
        if not isinstance(panel, list) or not 1 <= len(panel) <= MAX_PROPOSERS:
            raise bad_request("'plugins[fusion].analysis_models' must name 1 to 8 models")
        analyst = plugin.get("model") or (FUSION_ANALYST if virtual or not first else first)
        return _definition(analyst, {"proposers": panel, "aggregator": analyst}, fusion=True)
    if virtual is None or virtual.get("kind") not in ("moa", "fusion"):
        return None
    mixture = _definition(virtual["id"], virtual["moa"], fusion=virtual["kind"] == "fusion")
    if mixture.fusion:  # fusion answers under the name of the model that wrote the answer
        mixture = Mixture(**{**mixture.__dict__, "id": mixture.aggregator})
    return mixture


def _answers_block(answers: list[tuple[str, str]]) -> str:
    return "".join(f"\n{i}. [{model}]\n{text.strip()}\n" for i, (model, text)
                   in enumerate(answers, 1))


def with_answers(messages: list[Any], prompt: str, answers: list[tuple[str, str]],
                 review: str | None = None) -> list[Any]:
    """The conversation with a system message that carries the answers (and their review)."""
    text = prompt + _answers_block(answers)
    if review:
        text += FINAL_FROM_REVIEW + review
    return [{"role": "system", "content": text}, *messages]


def aggregate_prompt(mixture: Mixture) -> str:
    return mixture.aggregator_prompt or AGGREGATE


def review_prompt(mixture: Mixture) -> str:
    if mixture.fusion:
        return ANALYSIS
    return mixture.critique_prompt or CRITIQUE


def parse_analysis(text: str) -> dict[str, Any] | None:
    """Fusion's structured analysis, or None when the analyst did not answer with JSON."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = orjson.loads(text[start:end + 1])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
