"""`make run` brings the whole stack up behind the edge, and Ctrl-C brings it down."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the stack stopped while starting"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} was not healthy within {timeout} s")


@pytest.fixture
def stack(tmp_path: Path):
    """bin/run (what `make run` calls) on free ports, with its own Postgres and Redis."""
    names = ("EDGE", "WEB", "GATEWAY", "SIMULATOR", "PG", "REDIS")
    ports = {name: str(free_port()) for name in names}
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({f"{name}_PORT": port for name, port in ports.items()})
    env.update(
        RUN_DIR=str(tmp_path / "run"),
        PG_DATA=str(tmp_path / "postgres"),
        REDIS_DIR=str(tmp_path / "redis"),
        DJANGO_SETTINGS_MODULE="config.settings.dev",
    )
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["bin/run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield f"http://localhost:{ports['EDGE']}", process
    finally:
        if process.poll() is None:
            # The runner stops its children on SIGINT; SIGKILL would orphan them.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        print((tmp_path / "run.log").read_text(errors="replace")[-4000:])


@pytest.mark.xdist_group("stack")
def test_make_run_serves_site_and_gateway_then_stops_on_ctrl_c(stack) -> None:
    edge, process = stack
    wait_until_healthy(f"{edge}/healthz", process, timeout=120)

    web = httpx.get(f"{edge}/healthz").json()
    assert web == {"status": "ok", "database": "ok", "redis": "ok"}
    assert httpx.get(f"{edge}/gateway/healthz").json()["status"] == "ok"
    assert "One API for every model" in httpx.get(f"{edge}/").text
    # Completions reach the gateway, not Django: the answer is in the gateway's error shape.
    completion = httpx.post(f"{edge}/api/v1/chat/completions", json={})
    assert completion.status_code in {400, 401}
    assert "error" in completion.json()

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
    assert process.wait(timeout=30) is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{edge}/healthz", timeout=2)
