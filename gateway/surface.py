"""Other API surfaces around the chat-completions engine (Messages, Responses).

A surface translates the client's request into a chat-completions body, and wraps the ASGI
`send` so that everything the engine writes (a JSON answer, SSE chunks, keep-alives, errors)
reaches the client in the surface's own shape. The engine, routing, holds and metering are the
same for every surface; the chat hot path does none of this work.
"""

from typing import Any

import orjson

from gateway.http import Message, Send

JSON = dict[str, Any]


class Translator:
    """One request's output writer. Subclasses implement the four `on_*` hooks."""

    api_type = "completions"

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 200
        self.headers: list[tuple[bytes, bytes]] = []
        self.sse = False
        self.body: JSON = {}  # the client's request, as sent

    # -- hooks ---------------------------------------------------------------------------

    def chat_request(self, raw: bytes) -> bytes:
        """The client's body -> a chat-completions body (raises GatewayError on bad input)."""
        raise NotImplementedError

    def authorization(self, headers: dict[bytes, bytes]) -> str | None:
        value = headers.get(b"authorization")
        return value.decode("latin-1") if value is not None else None

    def on_answer(self, answer: JSON) -> JSON:
        """A whole chat completion -> the surface's answer."""
        raise NotImplementedError

    def on_error(self, status: int, error: JSON) -> JSON:
        """An error before any output (the `error` object of OpenRouter's shape)."""
        return {"error": error}

    def on_chunk(self, chunk: JSON) -> bytes:
        """One chat-completion chunk (deltas, finish, usage or error) -> SSE bytes."""
        raise NotImplementedError

    def on_keepalive(self) -> bytes:
        return b": OPENROUTER PROCESSING\n\n"

    def on_done(self) -> bytes:
        return b""

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers") or [])
            self.sse = any(k == b"content-type" and v.startswith(b"text/event-stream")
                           for k, v in self.headers)
            if self.sse:
                await self.send(message)
            return
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if self.sse:
            await self.send({"type": "http.response.body", "body": self._events(body),
                             "more_body": more})
            return
        # JSON answers come in one body message (gateway.http.send_bytes, error bodies).
        payload = self._json(body)
        headers = [(k, v) for k, v in self.headers if k != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await self.send({"type": "http.response.start", "status": self.status,
                         "headers": headers})
        await self.send({"type": "http.response.body", "body": payload, "more_body": more})

    def _json(self, body: bytes) -> bytes:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if not isinstance(data, dict):
            return body
        if self.status != 200 or ("error" in data and "choices" not in data):
            error = data.get("error")
            return orjson.dumps(self.on_error(self.status, error if isinstance(error, dict)
                                              else {}))
        return orjson.dumps(self.on_answer(data))

    def _events(self, body: bytes) -> bytes:
        out = bytearray()
        for event in body.split(b"\n\n"):
            if not event.strip():
                continue
            if event.startswith(b":"):
                out += self.on_keepalive()
            elif event.startswith(b"data: [DONE]"):
                out += self.on_done()
            elif event.startswith(b"data: "):
                chunk = orjson.loads(event[6:])
                if isinstance(chunk, dict):
                    out += self.on_chunk(chunk)
        return bytes(out)


def suffix(generation_id: str) -> str:
    """The random part of a generation id, for surface ids (`msg_…`, `resp_…`)."""
    return generation_id.rsplit("-", 1)[-1]


CORS_PREFLIGHT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers",
     b"Authorization, Content-Type, HTTP-Referer, X-OpenRouter-Title, X-Title, "
     b"X-OpenRouter-Categories, X-OpenRouter-Metadata, x-session-id, x-api-key, "
     b"anthropic-version, anthropic-beta, x-anthropic-beta"),
    (b"access-control-max-age", b"86400"),
]


async def preflight(send: Send) -> None:
    """Browsers ask before a cross-origin POST with a bearer key: any origin may, without
    cookies (no Allow-Credentials), since the key is the only credential."""
    await send({"type": "http.response.start", "status": 204, "headers": CORS_PREFLIGHT})
    await send({"type": "http.response.body", "body": b""})
