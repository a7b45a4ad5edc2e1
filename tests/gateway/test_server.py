"""The gateway's HTTP protocol: what one turn of the loop writes to a client goes out in one
socket write, nothing is held past that turn, and closing sends what was written first."""

import asyncio
import socket
from typing import Any

import httpx
import orjson

from gateway.server import CoalescingTransport
from tests.aio import run
from tests.servers import serve_asgi


class Recording:
    """A transport that records each write it is asked for."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


async def one_turn() -> None:
    await asyncio.sleep(0)



def test_writes_of_one_turn_are_one_write_at_its_end() -> None:
    async def scenario() -> Recording:
        raw = Recording()
        transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"data: 1\n\n")
        assert raw.writes == []  # not yet: the turn is not over
        await one_turn()
        assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\ndata: 1\n\n"]
        transport.write(b"data: 2\n\n")  # a later token leaves at the end of its own turn
        await one_turn()
        assert transport.get_extra_info("peername") == "extra peername"
        return raw

    raw = run(scenario())
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\ndata: 1\n\n", b"data: 2\n\n"]


def test_close_sends_what_was_written_before_it() -> None:
    async def scenario() -> Recording:
        raw = Recording()
        transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"last words")
        transport.close()
        await one_turn()
        return raw

    raw = run(scenario())
    assert raw.writes == [b"last words"] and raw.closed


async def streaming_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Headers, one event, a pause, a second event: like a stream waiting for its next token."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    await send({"type": "http.response.body", "body": b"data: first\n\n", "more_body": True})
    await asyncio.sleep(0.3)
    await send({"type": "http.response.body", "body": b"data: second\n\n", "more_body": False})


def test_a_streamed_token_is_not_held_back_until_the_next() -> None:
    with serve_asgi(streaming_app, http="gateway.server:HttpProtocol") as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            sock.settimeout(0.2)  # the second event comes 0.3 s later
            first = b""
            while b"data: first" not in first:
                first += sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 OK") and b"second" not in first


def test_an_answer_is_whole_with_its_length() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = orjson.dumps({"ok": True})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    with serve_asgi(app, http="gateway.server:HttpProtocol") as url, httpx.Client() as client:
        for _ in range(3):  # one keep-alive connection, several answers
            resp = client.get(url)
            assert resp.status_code == 200 and resp.json() == {"ok": True}
