"""Real servers for tests: an ASGI app under uvicorn on a free loopback port."""

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_asgi(app: Any, **config: Any) -> Iterator[str]:
    """Run `app` under uvicorn in a thread; yields its base URL, stops it on exit."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the ASGI server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_edge(web_url: str, gateway_url: str, run_dir: Path) -> Iterator[str]:
    """The real edge (bin/nginx, as `make run` starts it) in front of a web app and a gateway
    already listening; yields the public base URL."""
    port = free_port()
    env = {
        **os.environ,
        "RUN_DIR": str(run_dir),
        "EDGE_PORT": str(port),
        "WEB_ADDR": web_url.removeprefix("http://"),
        "GATEWAY_ADDR": gateway_url.removeprefix("http://"),
    }
    process = subprocess.Popen([str(ROOT / "bin" / "nginx")], env=env)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the edge did not start") from None
                time.sleep(0.05)
        yield f"http://localhost:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def serve_router(web_url: str, run_dir: Path) -> Iterator[str]:
    """One public origin as `make run` serves it: a gateway on the test Redis behind the real
    edge, which sends completions to it and everything else to the web app at `web_url`."""
    from django.conf import settings

    from gateway.app import Gateway
    from gateway.config import Settings

    with (
        serve_asgi(Gateway(Settings(redis_url=settings.REDIS_URL)),
                   http="gateway.server:HttpProtocol") as gateway_url,
        serve_edge(web_url, gateway_url, run_dir) as url,
    ):
        yield url
