"""The HTTP protocol the gateway is served with: uvicorn's httptools protocol, whose writes to
the client made in one turn of the event loop go out in one socket write.

    uvicorn gateway.app:app --loop uvloop --http gateway.server:HttpProtocol

uvicorn writes a response's status line and headers, then each body part, each with its own
`transport.write`, and uvloop sends each at once: a short answer costs two socket writes (and
two packets the client must wake up for), a stream's headers and first token two more. On the
machines the gateway runs on a socket write costs more than building the answer, so the
writes of one turn are joined and written at its end (`call_soon`): nothing waits longer than
the turn that produced it, and a stream's tokens still leave as soon as each one is relayed.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose writes of one loop turn are written together at the end of it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()  # what was written before closing is still sent, as by the transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        # is_closing, get_extra_info, pause_reading, resume_reading, ...: the transport's own.
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        coalescing = CoalescingTransport(transport, self.loop)  # type: ignore[arg-type]
        super().connection_made(coalescing)  # type: ignore[arg-type]
