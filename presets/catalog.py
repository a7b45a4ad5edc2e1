"""Which model ids a preset may name: the catalog's models and the virtual ones."""

from functools import cache
from pathlib import Path
from typing import Any

import orjson

from marketplace.models import Model

VIRTUAL_FILE = Path(__file__).resolve().parent.parent / "marketplace" / "data" / \
    "virtual_models.json"


@cache
def virtual_models() -> tuple[dict[str, Any], ...]:
    """The virtual models (mixtures of agents, fusion, routers), as the data file lists them."""
    return tuple(orjson.loads(VIRTUAL_FILE.read_bytes())["models"])


def virtual_ids() -> set[str]:
    return {m["id"] for m in virtual_models()}


def unknown_models(names: list[str]) -> list[str]:
    """The ids among `names` that are neither a catalog model nor a virtual one."""
    bases = {name.partition(":")[0] for name in names}
    known = set(Model.objects.filter(model_id__in=bases).values_list("model_id", flat=True))
    known |= virtual_ids()
    return [name for name in names if name.partition(":")[0] not in known]
