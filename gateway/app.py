"""ASGI entry point: `uvicorn gateway.app:app --loop uvloop --http gateway.server:HttpProtocol`."""

import asyncio
import logging
import random

from gateway import auto_router, mixtures, plugins, routing, sticky
from gateway import request as request_mod
from gateway.auth import Authenticator
from gateway.catalog import Catalog
from gateway.completions import Completions
from gateway.config import Settings
from gateway.embeddings import EMBEDDINGS, Embeddings
from gateway.errors import GatewayError
from gateway.http import (
    JSON_CT,
    ClientGone,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    send_bytes,
    send_error,
    send_json,
)
from gateway.metering import Meter, state_unavailable
from gateway.moa import Mixtures
from gateway.plugins.files import inline_text, read_files
from gateway.presets import Presets
from gateway.ratelimit import FreeLimits
from gateway.redis_client import Redis, RedisUnavailable
from gateway.redis_cluster import connect
from gateway.spool import Spool, replay_forever
from gateway.stats import Stats, View
from gateway.sticky import Stickiness
from gateway.surface import Translator, preflight
from gateway.surfaces import SURFACES
from gateway.upstream import new_session

log = logging.getLogger("gateway")

ROUTES = {
    "/api/v1/chat/completions": False,
    "/api/v1/completions": True,  # legacy: `prompt` instead of `messages`
}



def answer_for(exc: Exception, scope: Scope) -> GatewayError | None:
    """The error a client hears for what a request path raised; None when the client left.

    Called from an `except` block, so an unexpected error is logged with its traceback.
    """
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, ClientGone):
        return None
    if isinstance(exc, RedisUnavailable):
        # Redis is down or stalled: fail closed, fast, and say when to come back.
        return state_unavailable()
    # Logged without the body or the key: prompts and keys never reach the logs.
    log.exception("unexpected error on %s", scope["path"])
    return GatewayError(500, "Internal server error", {"error_type": "server"})

class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: Redis | None = None
        self.auth = Authenticator(settings.auth_cache_seconds)
        self.catalog = Catalog(settings.catalog_check_seconds)
        self.presets = Presets()
        self.completions: Completions | None = None
        self.stats: Stats | None = None
        self.limits: FreeLimits | None = None
        self.sticky: Stickiness | None = None
        self.rng = random.Random()
        self._replayer: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if scope["method"] == "OPTIONS" and (path in ROUTES or path in SURFACES
                                              or path == EMBEDDINGS):
            await preflight(send)
            return
        if path == EMBEDDINGS:
            if scope["method"] != "POST":
                await send_error(send, GatewayError(405, f"{path} accepts POST only"))
                return
            await self.embed(scope, receive, send)
            return
        if path in SURFACES:
            if scope["method"] != "POST":
                await send_error(send, GatewayError(405, f"{path} accepts POST only"))
                return
            translator = SURFACES[path](send)
            await self.complete(scope, receive, translator, False, translator)
            return
        legacy = ROUTES.get(path)
        if legacy is not None:
            if scope["method"] != "POST":
                await send_error(send, GatewayError(405, f"{path} accepts POST only"))
                return
            await self.complete(scope, receive, send, legacy)
        elif path == "/healthz":
            await self.healthz(send)
        else:
            await send_error(send, GatewayError(404, f"No route for {path}",
                                                {"error_type": "not_found"}))

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.redis = connect(self.settings.redis_url, self.settings.redis_timeout,
                                     self.settings.redis_cluster)
                # Settles that cannot reach Redis wait on disk and are replayed once it is back.
                spool = Spool(self.settings.spool_dir)
                meter = Meter(self.redis, self.settings.hold_lifetime, spool)
                self._replayer = asyncio.ensure_future(replay_forever(spool, meter.replay))
                self.completions = Completions(
                    meter, new_session(self.settings),
                    self.settings.keepalive_interval, self.settings.first_byte_timeout,
                )
                self.stats = Stats(self.redis)
                self.limits = FreeLimits(self.redis)
                self.sticky = Stickiness(self.redis)
                self.completions.stats = self.stats
                self.completions.retry_deadline = self.settings.retry_deadline
                self.completions.free_limits = self.limits
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._replayer is not None:
                    self._replayer.cancel()
                if self.completions is not None:
                    await self.completions.session.close()
                if self.stats is not None:
                    await self.stats.flush()
                if self.redis is not None:
                    await self.redis.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def complete(self, scope: Scope, receive: Receive, send: Send, legacy: bool,
                       translator: Translator | None = None) -> None:
        assert self.redis is not None and self.completions is not None, "not started"
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            raw = await read_body(receive, self.settings.max_body_bytes)
            if translator is None:
                authorization = header(scope, b"authorization")
            else:
                # Another API surface: its own auth header, its body as a chat request.
                authorization = translator.authorization(dict(scope["headers"]))
                raw = translator.chat_request(raw)
            caller = await self.auth.authenticate(self.redis, authorization)
            raw = await self.presets.apply(raw, self.redis, caller.account.user_id)
            req = request_mod.parse(raw, legacy=legacy)
            # Before the route, which must count the files' size.
            await read_files(req, self.redis, self.catalog.snapshot.models)
            pipeline = plugins.pipeline_for(req)  # None without plugins: the fast path
            snapshot = await self.catalog.refresh(self.redis)
            auto_router.route(snapshot, req)
            view = self.stats.current() if self.stats is not None else None
            mixture = mixtures.requested(req.body, req.models)
            if mixture is not None:
                def planner(sub: request_mod.ChatRequest) -> list[routing.Attempt]:
                    return routing.with_retries(
                        routing.plan(snapshot, sub, caller.account, self.rng, view), view)

                inline_text(req)  # each sub-call is parsed anew from the body
                await Mixtures(self.completions, self.settings.keepalive_interval).serve(
                    scope, caller, req, mixture, planner, tracking_send, receive)
                return
            plan = routing.plan(snapshot, req, caller.account, self.rng, view)
            convo = sticky.conversation(req, sticky.as_header(scope)) \
                if self.sticky is not None and self.sticky.applies(req, plan) else None
            if convo is not None and self.sticky is not None:
                plan = await self.sticky.pin(caller.account.user_id, convo[0], plan,
                                             view or View())
            plan = routing.with_retries(plan, view)
            gen = self.completions.start(scope, caller, req)
            if translator is not None:
                gen.api_type = translator.api_type
            if pipeline is not None:
                pipeline.bind(self.completions.session, self.redis, self.settings)
                gen.pipeline = pipeline
            if self.limits is not None:
                plan = await self.limits.admit(caller.account.user_id, gen.id, plan)
            if req.stream:
                await self.completions.stream(gen, plan, tracking_send, receive)
            else:
                body, _ = await self.completions.complete(gen, plan)
                await send_bytes(send, 200, body, [(b"x-generation-id", gen.id.encode())])
            if convo is not None and self.sticky is not None:
                await self.sticky.remember(caller.account.user_id, convo[0], convo[1],
                                           gen.model, gen.endpoint, gen.cached_tokens)
        except Exception as exc:
            err = answer_for(exc, scope)
            if err is not None and not started:
                await send_error(send, err)

    async def embed(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.redis is not None and self.completions is not None, "not started"
        try:
            raw = await read_body(receive, self.settings.max_body_bytes)
            caller = await self.auth.authenticate(self.redis, header(scope, b"authorization"))
            snapshot = await self.catalog.refresh(self.redis)
            body, gen_id = await Embeddings(self.completions).create(
                scope, caller, raw, snapshot, self.rng)
            await send_bytes(send, 200, body, [(b"x-generation-id", gen_id.encode())])
        except Exception as exc:
            err = answer_for(exc, scope)
            if err is not None:
                await send_error(send, err)

    async def healthz(self, send: Send) -> None:
        try:
            assert self.redis is not None, "not started"
            await self.redis.ping()
            redis_state = "ok"
        except Exception as exc:  # reported, not raised: this is a health probe
            redis_state = f"error: {exc.__class__.__name__}: {exc}"
        healthy = redis_state == "ok"
        body = {"status": "ok" if healthy else "unavailable", "redis": redis_state}
        await send_json(send, 200 if healthy else 503, body)


app = Gateway(Settings.from_env())

__all__ = ["JSON_CT", "Gateway", "app"]
