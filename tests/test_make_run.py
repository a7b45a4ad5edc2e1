"""`make run` brings the whole stack up behind the edge, serves completions from every wire
format with the official SDK, meters them, and Ctrl-C brings everything down."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis
from openai import OpenAI

from gateway.keys import all_usage_streams
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


class Stack:
    def __init__(self, edge: str, process: subprocess.Popen[bytes], env: dict[str, str]):
        self.edge, self.process, self.env = edge, process, env

    def manage(self, *args: str) -> str:
        """A management command against the stack's own database and Redis."""
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=True,
        ).stdout.strip()

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.env["REDIS_URL"])


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
    env.update(
        DATABASE_URL=f"postgres://marketplace@127.0.0.1:{ports['PG']}/marketplace",
        REDIS_URL=f"redis://127.0.0.1:{ports['REDIS']}/0",
        SIMULATOR_URL=f"http://127.0.0.1:{ports['SIMULATOR']}",
    )
    try:
        yield Stack(f"http://localhost:{ports['EDGE']}", process, env)
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


def wait_until_metered(stack: Stack, generations: int, timeout: float = 30) -> None:
    """The meter acknowledges an event only after its row is committed."""
    client = stack.redis()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = [g for s in all_usage_streams() if client.exists(s)
                  for g in client.xinfo_groups(s)]
        if groups and sum(g["entries-read"] or 0 for g in groups) == generations and not any(
                g["pending"] for g in groups):
            return
        time.sleep(0.3)
    raise AssertionError(f"the meter did not persist {generations} generations: {groups}")


# One model per upstream wire format; the default catalog serves them all from the simulator.
MODELS = ["openai/gpt-4o", "anthropic/claude-haiku-4.5", "google/gemini-2.5-flash"]


@pytest.mark.xdist_group("stack")
def test_make_run_serves_the_marketplace_then_stops_on_ctrl_c(stack: Stack) -> None:
    edge = stack.edge
    wait_until_healthy(f"{edge}/healthz", stack.process, timeout=120)
    assert httpx.get(f"{edge}/healthz").json() == {
        "status": "ok", "database": "ok", "redis": "ok"
    }
    assert httpx.get(f"{edge}/gateway/healthz").json()["status"] == "ok"
    assert "One API for every model" in httpx.get(f"{edge}/").text
    assert httpx.get(f"{edge}/api/v1/models/count").json()["data"]["count"] >= 90

    key = stack.manage("create_api_key", "--email", "dev@example.com", "--credits", "5")
    assert key.startswith("sk-or-v1-")
    sdk = OpenAI(base_url=f"{edge}/api/v1", api_key=key)
    generation_ids = []
    for model in MODELS:
        raw = sdk.chat.completions.with_raw_response.create(
            model=model, max_tokens=20, messages=[{"role": "user", "content": "Hello!"}]
        )
        answer = raw.parse()
        assert answer.model == model and answer.choices[0].message.content
        assert answer.usage is not None and answer.usage.completion_tokens > 0
        generation_ids.append(raw.headers["x-generation-id"])

        chunks = list(sdk.chat.completions.create(
            model=model, max_tokens=20, stream=True,
            messages=[{"role": "user", "content": "Tell me a story."}],
        ))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text and len({c.id for c in chunks}) == 1
        assert [c for c in chunks if c.usage is not None] == chunks[-1:]
        generation_ids.append(chunks[0].id)

    # The generation answers right after the response, before and after the meter ran.
    headers = {"Authorization": f"Bearer {key}"}
    first = httpx.get(f"{edge}/api/v1/generation", params={"id": generation_ids[0]},
                      headers=headers)
    assert first.status_code == 200 and first.json()["data"]["model"] == MODELS[0]
    wait_until_metered(stack, generations=len(generation_ids))
    for generation_id in generation_ids:
        data = httpx.get(f"{edge}/api/v1/generation", params={"id": generation_id},
                         headers=headers).json()["data"]
        assert data["total_cost"] > 0
    spent = httpx.get(f"{edge}/api/v1/key", headers=headers).json()["data"]["usage"]
    assert 0 < spent < 5

    os.killpg(stack.process.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
    assert stack.process.wait(timeout=30) is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{edge}/healthz", timeout=2)
