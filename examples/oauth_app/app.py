"""A third-party app that lets its users "sign in with the router" (OAuth PKCE).

    ROUTER_URL=http://localhost:8000 python examples/oauth_app/app.py   # serves :8010

The user clicks "Sign in", approves on the router's consent page, comes back with a code; the
app exchanges it (with the PKCE verifier only it knows) for a key that spends the user's own
credits, and makes one completion with it.
"""

import base64
import hashlib
import html
import os
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse, ClientSession, web

VERIFIERS = web.AppKey("verifiers", dict[str, str])
ROUTER = web.AppKey("router", str)
MODEL = web.AppKey("model", str)


def completion_request(model: str) -> dict[str, object]:
    """The one completion the app makes with the user's new key."""
    return {
        "model": model,
        "max_tokens": 40,
        "messages": [{"role": "user", "content": "Say hello to a new user."}],
    }


def page(body: str) -> web.Response:
    return web.Response(
        text=f"<!doctype html><title>Notes demo</title><body style='font:16px system-ui;"
        f"max-width:640px;margin:40px auto'><h1>Notes demo</h1>{body}</body>",
        content_type="text/html",
    )


async def home(request: web.Request) -> web.Response:
    return page('<p>A demo app.</p><p><a id="signin" href="/login">Sign in with the router</a>')


async def login(request: web.Request) -> web.Response:
    state = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(64)
    request.app[VERIFIERS][state] = verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    callback = f"{request.scheme}://{request.host}/callback?state={state}"
    query = urlencode(
        {
            "callback_url": callback,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "app_name": "Notes demo",
        }
    )
    response = web.HTTPFound(f"{request.app[ROUTER]}/auth?{query}")
    response.set_cookie("state", state, httponly=True, samesite="Lax")
    raise response


async def callback(request: web.Request) -> web.Response:
    state = request.query.get("state", "")
    if not state or state != request.cookies.get("state"):
        return page('<p id="result">Sign-in was not started from this browser.</p>')
    if request.query.get("error"):
        return page(f'<p id="result">Sign-in cancelled: {html.escape(request.query["error"])}</p>')
    verifier = request.app[VERIFIERS].pop(state, "")
    api = request.app[ROUTER] + "/api/v1"
    async with ClientSession() as http:
        body = {
            "code": request.query.get("code", ""),
            "code_verifier": verifier,
            "code_challenge_method": "S256",
        }
        async with http.post(f"{api}/auth/keys", json=body) as resp:
            exchanged = await resp.json()
        if "key" not in exchanged:
            return page(f'<p id="result">Exchange failed: {html.escape(str(exchanged))}</p>')
        headers = {"Authorization": f"Bearer {exchanged['key']}"}
        async with http.get(f"{api}/key", headers=headers) as resp:
            label = (await resp.json())["data"]["label"]
        chat = completion_request(request.app[MODEL])
        async with http.post(f"{api}/chat/completions", json=chat, headers=headers) as resp:
            ok = resp.status == 200
            reply = await resp.json(content_type=None) if ok else {"error": await resp.text()}
    return page(
        f'<p id="result">Signed in as {html.escape(exchanged["user_id"] or "")} with key '
        f'<code id="label">{html.escape(label)}</code>.</p>' + show_completion(ok, resp, reply)
    )


def show_completion(ok: bool, resp: ClientResponse, reply: dict[str, Any]) -> str:
    if not ok or "choices" not in reply:
        why = f"HTTP {resp.status}: {str(reply.get('error'))[:200]}"
        return f'<p>No completion: <span id="completion-error">{html.escape(why)}</span></p>'
    answer = reply["choices"][0]["message"]["content"]
    # OpenRouter reports what the call cost in `usage.cost` (USD, taken from the user's
    # credits); nine decimals are nano-dollars, the router's unit.
    cost = format(reply.get("usage", {}).get("cost", 0), ".9f").rstrip("0").rstrip(".")
    served_by = html.escape(f"{reply.get('model', '')} via {reply.get('provider', '?')}")
    return (
        f'<p>The model says: <q id="completion">{html.escape(answer)}</q></p>'
        f'<p style="color:#666;font-size:14px">{served_by}, '
        f'<span id="cost">${cost}</span> from your credits.</p>'
    )


def create_app(router_url: str, model: str) -> web.Application:
    app = web.Application()
    app[ROUTER] = router_url.rstrip("/")
    app[MODEL] = model
    app[VERIFIERS] = {}
    app.add_routes([web.get("/", home), web.get("/login", login), web.get("/callback", callback)])
    return app


if __name__ == "__main__":
    web.run_app(
        create_app(
            os.environ.get("ROUTER_URL", "http://localhost:8000"),
            os.environ.get("MODEL", "openai/gpt-4o-mini"),
        ),
        host="localhost",
        port=int(os.environ.get("PORT", "8010")),
    )
