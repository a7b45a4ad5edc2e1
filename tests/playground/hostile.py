"""A provider that answers every chat completion with a fixed text: an answer full of HTML
and script, to check that the playground shows model output as text and runs none of it."""

from typing import Any

import orjson

HOSTILE = (
    "Here you go: <img src=x onerror=\"window.__pwned = 1\"> and "
    "<script>window.__pwned = 2</script>\n\n"
    "**bold** and [a link](javascript:window.__pwned=3) and `<b>code</b>`\n\n"
    "```html\n<iframe src=\"javascript:window.__pwned=4\"></iframe>\n```"
)
# Streamed first, as reasoning models do: the page shows it folded away.
THOUGHT = "Thinking it over <svg onload=\"window.__pwned = 5\">"


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    body = {"id": "chatcmpl-hostile", "object": "chat.completion.chunk", "created": 0,
            "model": "hostile", "choices": [{"index": 0, "delta": delta,
                                             "finish_reason": finish}], **extra}
    return b"data: " + orjson.dumps(body) + b"\n\n"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    request = b""
    while True:
        message = await receive()
        request += message.get("body", b"")
        if not message.get("more_body"):
            break
    stream = bool(orjson.loads(request or b"{}").get("stream"))
    usage = {"prompt_tokens": 10, "completion_tokens": 40, "total_tokens": 50}
    if stream:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "more_body": True,
                    "body": _chunk({"role": "assistant", "content": "", "reasoning": THOUGHT})})
        for i in range(0, len(HOSTILE), 16):
            piece = _chunk({"content": HOSTILE[i:i + 16]})
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body",
                    "body": _chunk({}, "stop", usage=usage) + b"data: [DONE]\n\n"})
        return
    body = {"id": "chatcmpl-hostile", "object": "chat.completion", "created": 0, "model": "hostile",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": HOSTILE}}], "usage": usage}
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})
