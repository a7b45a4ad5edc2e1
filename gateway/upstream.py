"""Talking to providers: one shared aiohttp session, SSE reading, failure classification."""

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.catalog import Endpoint
from gateway.config import Settings

# Statuses worth trying another endpoint for: the next provider may well succeed.
RETRYABLE = frozenset({401, 402, 403, 404, 408, 409, 425, 429, 500, 502, 503, 504, 520, 522,
                       524, 529})


@dataclass
class UpstreamError(Exception):
    status: int  # the upstream status; 502 for a connection error, 504 for a timeout
    message: str
    retry_after: int | None = None

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


def new_session(settings: Settings) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_pool_size, ttl_dns_cache=300, keepalive_timeout=60
    )
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
    )
    # No cookies, no auto-decompression surprises: a lean client.
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
    )


_API_KEY_ENV = re.compile(r"[A-Z][A-Z0-9_]*_API_KEY")


def api_key(endpoint: Endpoint) -> str | None:
    if endpoint.byok is not None:
        return endpoint.byok.secret  # the account's own key for this provider
    # Only <NAME>_API_KEY variables: never one of the gateway's own secrets (the catalog checks
    # the same form; this is the second lock).
    name = endpoint.api_key_env
    return os.environ.get(name) if name and _API_KEY_ENV.fullmatch(name) else None


def retry_after(headers: Any) -> int | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0, int(float(value)))
    except ValueError:
        return None


async def sse_events(content: aiohttp.StreamReader) -> AsyncIterator[tuple[str | None, bytes]]:
    """(event name, data) per server-sent event; comments and ids are skipped."""
    event: str | None = None
    data: list[bytes] = []
    buffer = b""
    async for chunk in content.iter_any():
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line = buffer[:end]
            buffer = buffer[end + 1:]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    yield event, b"\n".join(data)
                event, data = None, []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                event = line[6:].strip().decode()
    if data:
        yield event, b"\n".join(data)


TIMEOUTS = (asyncio.TimeoutError, TimeoutError)
