"""Start the simulator from tests (any test folder) and drive its control API.

    from simulator.testing import run_simulator, set_knobs

    with run_simulator({"providers": {"groq": {"tokens_per_second": 100}}}) as base_url:
        set_knobs(base_url, "groq", error_rate=1.0)
        ...  # point an adapter at f"{base_url}/groq/v1"

Only the standard library is used here, so any test can import it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from simulator.app import Simulator
from simulator.knobs import Store

# Longer than any client pool's idle timeout (aiohttp's default is 15 s, the gateway's 60 s):
# a server that closes idle connections first races with clients reusing them, and tests
# then see spurious connection errors. Real providers keep connections open for minutes.
KEEP_ALIVE_S = 120


@contextmanager
def run_simulator(
    config: dict[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    in_process: bool = True,
) -> Iterator[str]:
    """Serve a fresh simulator with uvicorn and yield its base URL (no trailing slash).

    ``config`` has the shape of the ``SIMULATOR_CONFIG`` file. ``port=0`` picks a free port.
    ``in_process=True`` runs uvicorn in a daemon thread (fast start, state private to this
    server); ``False`` runs ``python -m uvicorn simulator.app:app`` in a subprocess, which
    keeps the simulator off the test process's GIL (use it for load tests).
    """
    if in_process:
        with _thread_server(config, host, port) as url:
            yield url
    else:
        with _subprocess_server(config, host, port) as url:
            yield url


@contextmanager
def _thread_server(config: dict[str, Any] | None, host: str, port: int) -> Iterator[str]:
    app = Simulator(Store(config))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config_ = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config_)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="simulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.005)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def _subprocess_server(config: dict[str, Any] | None, host: str, port: int) -> Iterator[str]:
    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    env = dict(os.environ)
    config_file = None
    if config is not None:
        config_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(config, config_file)
        config_file.close()
        env["SIMULATOR_CONFIG"] = config_file.name
    cmd = [sys.executable, "-m", "uvicorn", "simulator.app:app", "--host", host,
           "--port", str(port), "--no-access-log", "--log-level", "warning",
           "--timeout-keep-alive", str(KEEP_ALIVE_S)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)  # noqa: S603
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                control(url, "GET", "/healthz")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("simulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if config_file is not None:
            os.unlink(config_file.name)


def control(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON call to the simulator (control API or anything else); returns parsed JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(  # noqa: S310 - the URL is the local simulator
        base_url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def set_knobs(base_url: str, provider: str, **knobs: Any) -> dict[str, Any]:
    """Merge ``knobs`` into ``provider``'s current knobs; returns the effective knobs."""
    result: dict[str, Any] = control(base_url, "PUT", f"/_control/providers/{provider}", knobs)
    return result


def reset(base_url: str) -> None:
    """Back to the configured defaults, with an empty request log."""
    control(base_url, "POST", "/_control/reset")


def recent_requests(base_url: str, provider: str | None = None) -> list[dict[str, Any]]:
    query = f"?provider={provider}" if provider else ""
    result: list[dict[str, Any]] = control(base_url, "GET", f"/_control/requests{query}")[
        "requests"
    ]
    return result


def request_record(base_url: str, request_id: str, *, wait_done: float = 5.0) -> dict[str, Any]:
    """The log entry of one request (by its ``x-simulator-request-id``), once it has ended."""
    deadline = time.monotonic() + wait_done
    while True:
        record: dict[str, Any] = control(base_url, "GET", f"/_control/requests/{request_id}")
        if record["done"] or time.monotonic() > deadline:
            return record
        time.sleep(0.01)
