"""ASGI entry point: `uvicorn gateway.app:app`."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def send_json(send: Send, status: int, body: object) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: aioredis.Redis | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await self.healthz(send)
            return
        error = {"code": 404, "message": f"No route for {scope['path']}", "metadata": None}
        await send_json(send, 404, {"error": error})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.redis = aioredis.Redis.from_url(self.settings.redis_url)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.redis is not None:
                    await self.redis.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

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
