"""The plugin pipeline: middleware that runs around one completion (reference §21).

A plugin is a small class registered in `REGISTRY` (one place, below). For one request,
`pipeline_for(req)` reads `plugins`, `transforms` and the `:online` suffix, validates them
(an unknown id is a 400 naming the known ones; `enabled: false` skips a plugin) and returns a
`Pipeline` of plugin instances in a fixed order, or None when nothing applies: a request
without plugins pays one dict lookup and nothing else.

The hooks, in the order the completion engine (gateway/completions.py) calls them:

- `bound(ctx)` once, before the first hold: the most prompt bytes the plugin may add and the
  most it may charge, so the hold stays an upper bound of the charge.
- `before(ctx)` before each endpoint attempt, after that attempt's hold was taken, with
  `ctx.model` and `ctx.endpoint` set and `ctx.body` a fresh shallow copy of the request body
  for this attempt: rewrite `ctx.body["messages"]` (never mutate the client's message objects
  in place), `ctx.charge(...)`, `ctx.annotate(...)`. Per-endpoint work (compression to this
  endpoint's context) runs each time; per-request work (a search, parsing a file) is done on
  the first call and remembered on the instance, which lives for one request. A fallback to
  another endpoint calls `before` again with the other endpoint. Raise `GatewayError` to
  refuse the request (the hold is released, nothing is charged).
- `on_delta(ctx, delta)` for every streamed delta, in order, as it streams: return the delta
  (changed or not), or None to hold it back (then emit it later from `at_end`).
- `at_end(ctx, message)`: non-streamed, `message` is the whole answer message, change it in
  place. Streamed, `message` is `{"role", "content"}` with the content that streamed; return
  one last delta to send before the finish chunk, or None.

What the plugins charged is added to the generation's cost (`priced`), shown in `usage.cost`,
and written to the usage event (`event_fields`) that `/api/v1/generation` reads.
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.errors import bad_request
from gateway.pricing import NANO, Cost

if TYPE_CHECKING:
    import aiohttp

    from gateway.catalog import Endpoint, Model
    from gateway.config import Settings
    from gateway.redis_client import Redis
    from gateway.request import ChatRequest

JSON = dict[str, Any]

# Plugin ids served outside the pipeline (they choose the model, not change one call).
ROUTERS = frozenset({"auto-router", "fusion"})
ONLINE = ":online"


@dataclass
class Context:
    """What the plugins of one request share: the request, the attempt, the costs."""

    req: "ChatRequest"
    # The body sent upstream on the current attempt (a shallow copy of req.body).
    body: JSON = field(default_factory=dict)
    model: "Model | None" = None
    endpoint: "Endpoint | None" = None
    stream: bool = False
    session: "aiohttp.ClientSession | None" = None
    redis: "Redis | None" = None
    settings: "Settings | None" = None
    # Nano-dollars charged by plugins, by plugin id (one entry each; the last word wins).
    costs: dict[str, int] = field(default_factory=dict)
    # Annotations for the answer message (non-streamed; streamed ones go out on deltas).
    annotations: list[JSON] = field(default_factory=list)
    # Extra fields of `usage` (e.g. server_tool_use_details) and of the usage event.
    usage_fields: JSON = field(default_factory=dict)
    event_fields: JSON = field(default_factory=dict)
    # Top-level fields of the answer (the last chunk of a stream): `openrouter_metadata`
    # with a `pipeline` stage per plugin that changed something (reference §21).
    response_fields: JSON = field(default_factory=dict)
    # The answer's finish reason, set before `at_end` (e.g. "length": cut by max_tokens).
    finish_reason: str | None = None

    def charge(self, plugin_id: str, nanos: int) -> None:
        self.costs[plugin_id] = nanos

    def annotate(self, annotation: JSON) -> None:
        self.annotations.append(annotation)

    def stage(self, kind: str, stage: JSON | None) -> None:
        """Set (or, with None, remove) this request's `openrouter_metadata.pipeline` stage of
        this type and name (several plugins share the type `plugin`): a plugin that runs per
        attempt reports what the serving attempt did."""
        meta = self.response_fields.setdefault("openrouter_metadata", {"pipeline": []})
        name = None if stage is None else stage.get("name")
        stages = [s for s in meta["pipeline"] if s.get("type") != kind
                  or (name is not None and s.get("name") != name)]
        if stage is not None:
            stages.append({"type": kind, **stage})
        meta["pipeline"] = stages
        if not stages:
            del self.response_fields["openrouter_metadata"]

    @property
    def cost_nanos(self) -> int:
        return sum(self.costs.values())


class Plugin:
    """One plugin, instantiated per request with its entry of `plugins` (id and options)."""

    id: ClassVar[str] = ""
    # Position in the pipeline, lowest first: inputs (files, search) before compression,
    # which must see the final prompt; output repairs last.
    order: ClassVar[int] = 50

    def __init__(self, options: JSON) -> None:
        """Validate the options; raise `bad_request` naming the field for a wrong one."""
        self.options = options

    @classmethod
    def implicit(cls, req: "ChatRequest") -> JSON | None:
        """Options when the request did not name this plugin but it applies by default, or
        None. Runs on every request that names no plugin: keep it to a field lookup."""
        return None

    def bound(self, ctx: Context) -> tuple[int, int]:
        """(most prompt bytes this plugin may add, most nano-dollars it may charge)."""
        return 0, 0

    async def before(self, ctx: Context) -> None:
        return None

    def on_delta(self, ctx: Context, delta: JSON) -> JSON | None:
        return delta

    def at_end(self, ctx: Context, message: JSON) -> JSON | None:
        return None


# The one registry: id -> plugin class. Plugin modules add themselves with `register`, and
# are imported at the bottom of this module so the registry is complete once it is imported.
REGISTRY: dict[str, type[Plugin]] = {}
# `transforms` entries (legacy) -> the plugin id they stand for.
TRANSFORMS: dict[str, str] = {"middle-out": "context-compression"}


def register(cls: type[Plugin]) -> type[Plugin]:
    assert cls.id and cls.id not in REGISTRY, f"plugin id {cls.id!r} missing or taken"
    REGISTRY[cls.id] = cls
    return cls


def known_ids() -> list[str]:
    return sorted({*REGISTRY, *ROUTERS})


def _entries(body: JSON) -> list[JSON]:
    plugins = body.get("plugins")
    if plugins is None:
        return []
    if not isinstance(plugins, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) for p in plugins
    ):
        raise bad_request("'plugins' must be an array of objects with a string 'id'")
    for entry in plugins:
        if entry["id"] not in REGISTRY and entry["id"] not in ROUTERS:
            known = ", ".join(known_ids())
            raise bad_request(f"Unknown plugin id '{entry['id']}'. Known plugins: {known}",
                              plugin_id=entry["id"], known_plugins=known_ids())
        enabled = entry.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise bad_request(f"'plugins[{entry['id']}].enabled' must be a boolean")
    return plugins


def _transforms(body: JSON) -> list[str]:
    transforms = body.get("transforms")
    if transforms is None:
        return []
    if not isinstance(transforms, list) or not all(isinstance(t, str) for t in transforms):
        raise bad_request("'transforms' must be an array of strings")
    for name in transforms:
        if name not in TRANSFORMS:
            raise bad_request(f"Unknown transform '{name}'. Known transforms: "
                              + ", ".join(sorted(TRANSFORMS)), known_transforms=sorted(TRANSFORMS))
    return transforms


def _strip_online(req: "ChatRequest") -> bool:
    """`model:online` -> `model` with web search (reference §6.2); True if any had it."""
    if not any(m.endswith(ONLINE) for m in req.models):
        return False
    req.models = [m.removesuffix(ONLINE) for m in req.models]
    for name in ("model", "models"):
        value = req.body.get(name)
        if isinstance(value, str):
            req.body[name] = value.removesuffix(ONLINE)
        elif isinstance(value, list):
            req.body[name] = [v.removesuffix(ONLINE) if isinstance(v, str) else v for v in value]
    return True


def _names_any(body: JSON, req: "ChatRequest") -> bool:
    """Does the request name plugins in any way (the fields, a server tool, `:online`)?
    Plain loops, no generators: this runs on every request."""
    if "plugins" in body or "transforms" in body or "tools" in body:
        return True
    for model in req.models:  # noqa: SIM110  (a loop: any() of a generator costs more)
        if model.endswith(ONLINE):
            return True
    return False


def _implicit_only(req: "ChatRequest") -> "Pipeline | None":
    """The fast path of a request that names no plugin: only default-on plugins can apply,
    each deciding from a field lookup or two."""
    plugins = None
    for cls in IMPLICIT:
        options = cls.implicit(req)
        if options is not None:
            plugins = plugins or []
            plugins.append(cls({"id": cls.id, **options}))
    return Pipeline(req, plugins) if plugins else None


# Plugin classes that may apply without being named (filled by `register_implicit`).
IMPLICIT: list[type[Plugin]] = []


def register_implicit(cls: type[Plugin]) -> type[Plugin]:
    """Register a plugin that is on by default (its `implicit` decides per request)."""
    register(cls)
    IMPLICIT.append(cls)
    return cls


# Hooks that turn other request fields into plugin entries (e.g. the `openrouter:web_search`
# server tool): each takes the body and returns entries to add (and may remove the field).
ENTRY_SOURCES: list[Any] = []


class Pipeline:
    """The plugins of one request, in order, and their shared context."""

    def __init__(self, req: "ChatRequest", plugins: Iterable[Plugin]) -> None:
        self.plugins = sorted(plugins, key=lambda p: p.order)
        self.ctx = Context(req=req, body=req.body, stream=req.stream)
        self._bounds: tuple[int, int] | None = None
        self._streamed: list[str] = []

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.plugins]

    def bind(self, session: "aiohttp.ClientSession | None", redis: "Redis | None",
             settings: "Settings | None" = None) -> None:
        self.ctx.session, self.ctx.redis, self.ctx.settings = session, redis, settings

    # -- the hold ------------------------------------------------------------------------

    def bounds(self) -> tuple[int, int]:
        """(prompt bytes the plugins may add, nano-dollars they may charge), for every hold."""
        if self._bounds is None:
            extra = cost = 0
            for plugin in self.plugins:
                more, most = plugin.bound(self.ctx)
                extra, cost = extra + more, cost + most
            self._bounds = (extra, cost)
        return self._bounds

    # -- the call ------------------------------------------------------------------------

    async def before(self, model: "Model", endpoint: "Endpoint") -> JSON:
        """Run every plugin's `before` for this attempt; the body to send upstream."""
        ctx = self.ctx
        ctx.model, ctx.endpoint = model, endpoint
        ctx.body = dict(ctx.req.body)
        for plugin in self.plugins:
            await plugin.before(ctx)
        return ctx.body

    def on_delta(self, delta: JSON) -> JSON | None:
        content = delta.get("content")
        if isinstance(content, str):
            self._streamed.append(content)
        for plugin in self.plugins:
            out = plugin.on_delta(self.ctx, delta)
            if out is None:
                return None
            delta = out
        return delta

    def at_end(self, message: JSON) -> None:
        """A non-streamed answer's message: each plugin may change it; annotations added."""
        for plugin in self.plugins:
            plugin.at_end(self.ctx, message)
        if self.ctx.annotations:
            message["annotations"] = [*(message.get("annotations") or ()),
                                      *self.ctx.annotations]

    def at_stream_end(self) -> JSON | None:
        """The end of a stream: one last delta (merged from the plugins'), or None."""
        message = {"role": "assistant", "content": "".join(self._streamed)}
        last: JSON = {}
        for plugin in self.plugins:
            delta = plugin.at_end(self.ctx, message)
            if delta:
                for name, value in delta.items():
                    if isinstance(value, list) and isinstance(last.get(name), list):
                        last[name] = [*last[name], *value]
                    elif isinstance(value, str) and isinstance(last.get(name), str):
                        last[name] += value
                    else:
                        last[name] = value
        return last or None

    # -- money and records ---------------------------------------------------------------

    def priced(self, charged: Cost) -> Cost:
        """The generation's cost with what the plugins charged added (BYOK too: plugins are
        ours, paid from credits whoever's key served the tokens)."""
        nanos = self.ctx.cost_nanos
        if not nanos:
            return charged
        return replace(charged, total=charged.total + Decimal(nanos) * NANO)

    def usage(self, payload: JSON) -> JSON:
        """The `usage` object with the plugins' extra fields."""
        if self.ctx.usage_fields:
            payload.update(copy.deepcopy(self.ctx.usage_fields))
        return payload

    def event_fields(self) -> JSON:
        fields: JSON = {"plugins": self.ids, **self.ctx.event_fields}
        if self.ctx.costs:
            fields["plugin_costs"] = {k: f"{Decimal(v) * NANO:.9f}"
                                      for k, v in self.ctx.costs.items()}
        return fields


def pipeline_for(req: "ChatRequest") -> Pipeline | None:
    """The request's plugins in order, or None when none applies (the fast path).

    Raises a 400 for an unknown plugin id or transform, or a plugin's invalid options."""
    body = req.body
    if not _names_any(body, req):
        return _implicit_only(req)
    entries = list(_entries(body))
    for source in ENTRY_SOURCES:
        entries.extend(source(body))
    if _strip_online(req) and not any(e["id"] == "web" for e in entries):
        entries.append({"id": "web"})
    transforms = _transforms(body)
    named: dict[str, JSON] = {}
    for entry in entries:
        named.setdefault(entry["id"], entry)  # the first entry of an id wins
    for name in transforms:
        named.setdefault(TRANSFORMS[name], {"id": TRANSFORMS[name]})
    plugins: list[Plugin] = []
    for plugin_id, entry in named.items():
        cls = REGISTRY.get(plugin_id)
        if cls is None or entry.get("enabled") is False:
            continue  # routers run elsewhere; a disabled plugin is skipped
        plugins.append(cls(entry))
    for cls in IMPLICIT:
        if cls.id in named:
            continue  # named (maybe disabled): the request decides
        options = cls.implicit(req)
        if options is not None:
            plugins.append(cls({"id": cls.id, **options}))
    return Pipeline(req, plugins) if plugins else None


__all__ = ["REGISTRY", "Context", "Pipeline", "Plugin", "pipeline_for", "register",
           "register_implicit"]

# Plugin modules register themselves when imported.
from gateway.plugins import compression, files, healing, web  # noqa: E402, F401
