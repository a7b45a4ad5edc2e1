"""What the gateway adds: direct-to-upstream vs through the public edge (nginx -> gateway).

    .venv/bin/python bench/gateway_overhead.py [--seconds 5] [--requests 20000]

Starts, on free loopback ports: a minimal OpenAI-shaped upstream (raw asyncio + uvloop, fixed
answer, in its own process), a private Redis with AOF (`appendfsync everysec`) and
`maxmemory-policy noeviction`, the metering consumer (`manage.py meter`, when DATABASE_URL is
set: in a database of its own), one gateway worker (`uvicorn gateway.app:app --loop uvloop
--http httptools`), and nginx started by bin/nginx exactly as `make run` starts it.
Authentication, balance reservation and metering are all on: the bench publishes a catalog, an
account and a key the way the Django side does. The load generator is wrk (Debian package
`wrk`) when installed, else aiohttp in this process, bounded by both a duration and a request
count; a Python client competes for the CPU with what it measures, so prefer wrk.

Prints p50/p99 latency at concurrency 1 and 32, requests/second, streaming time to first token,
and the overhead and ratios. If LiteLLM's proxy is installed (the `litellm` command on PATH, or
named by the LITELLM environment variable: keep it in a virtualenv of its own, its pins clash
with ours), it runs against the same upstream in the same run and its ratio is printed too.
"""

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import redis
import uvloop

from gateway import keys as gw_keys

ROOT = Path(__file__).resolve().parent.parent
MODEL = "bench/echo"
KEY = "sk-or-v1-" + "b" * 64

ANSWER = orjson.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "echo",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there."},
                 "finish_reason": "stop", "logprobs": None}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
})
STREAM = b"".join(
    b"data: " + orjson.dumps(chunk) + b"\n\n"
    for chunk in [
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "echo",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello"},
                      "finish_reason": None}]},
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "echo",
         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "echo",
         "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 1,
                                  "total_tokens": 10}},
    ]
) + b"data: [DONE]\n\n"


# -- the minimal upstream ------------------------------------------------------------------

class Upstream(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            marker = head.find(b"content-length:")
            if marker >= 0:
                length = int(head[marker + 15:].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            if b'"stream":true' in body:
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"content-length: " + str(len(STREAM)).encode() + b"\r\n\r\n" + STREAM)
            else:
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)


def serve_upstream(port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Upstream, "127.0.0.1", port, backlog=4096)
        await server.serve_forever()

    uvloop.run(main())


# -- processes -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start_redis(tmp: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A private Redis configured as the gateway's must be: AOF fsynced every second, no
    eviction (money is never evicted)."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                             "--maxmemory-policy", "noeviction", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL)
    wait_port(port)
    return f"redis://127.0.0.1:{port}/0", proc


def start_meter(redis_url: str) -> subprocess.Popen[bytes] | None:
    """`manage.py meter` persisting the bench's usage events, as under `make run`, in a
    database of its own (DATABASE_URL + "_bench", created and migrated when missing)."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        print("meter: not running (set DATABASE_URL, e.g. `source bin/test-env`)")
        return None
    url = base.rsplit("/", 1)[0] + "/" + base.rsplit("/", 1)[1] + "_bench"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url,
           "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        name = url.rsplit("/", 1)[1]
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    # The bench account in the ledger too: the meter's commits republish it from there.
    subprocess.run([*manage, "shell", "-c", "from decimal import Decimal; "
                    "from django.contrib.auth.models import User; "
                    "from billing.ledger import grant_credits; "
                    "user, _ = User.objects.get_or_create(pk=1, defaults={'username': 'bench'}); "
                    "grant_credits(user, Decimal(10**6), 'promo', 'bench-credit')"],
                   env=env, check=True)
    return subprocess.Popen([*manage, "meter"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def publish(redis_url: str, upstream: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    endpoint = {
        "id": 1, "provider": "bench", "tag": "bench", "provider_name": "Bench",
        "api_format": "openai", "base_url": upstream + "/v1", "api_key_env": None,
        "upstream_model": "echo", "variant": None, "service_tier": None,
        "context_length": 8192, "max_completion_tokens": 1024, "max_prompt_tokens": None,
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "supported_parameters": ["max_tokens"], "data_policy": {"training": False},
        "can_abort": True,
    }
    data = {"version": 1, "providers": {}, "models": {MODEL: {
        "id": MODEL, "name": "Bench echo", "context_length": 8192, "endpoints": [endpoint]}}}
    client.hset(gw_keys.CATALOG, mapping={"version": 1, "data": orjson.dumps(data)})
    client.hset(gw_keys.key(hashlib.sha256(KEY.encode()).hexdigest()), mapping={
        "key_id": 1, "user_id": 1, "name": "bench", "management": 0, "disabled": 0,
        "limit": "", "limit_reset": "", "expires_at": ""})
    client.hset(gw_keys.account(1), mapping={"active": 1, "credits": 10**15, "purchased": 10**15,
                                             "spent": 0, "allow": "", "ignore": ""})
    client.close()


def start_gateway(redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_SPOOL_DIR": str(tmp / "spool")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
         "--no-proxy-headers", "--log-level", "warning"], cwd=ROOT, env=env)
    wait_port(port)
    return proc


def start_nginx(tmp: Path, gateway_port: int) -> tuple[int, subprocess.Popen[bytes]]:
    """The edge exactly as `make run` starts it (bin/nginx), in front of the gateway."""
    edge = free_port()
    env = {**os.environ, "RUN_DIR": str(tmp), "EDGE_PORT": str(edge),
           "WEB_ADDR": f"127.0.0.1:{free_port()}", "GATEWAY_ADDR": f"127.0.0.1:{gateway_port}"}
    proc = subprocess.Popen([str(ROOT / "bin" / "nginx")], env=env)
    wait_port(edge)
    return edge, proc


def start_litellm(tmp: Path, upstream: str) -> tuple[int, subprocess.Popen[bytes]] | None:
    command = os.environ.get("LITELLM") or shutil.which("litellm")
    if not command:
        return None
    port = free_port()
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: bench/echo\n    litellm_params:\n"
        f"      model: openai/echo\n      api_base: {upstream}/v1\n      api_key: none\n"
        # Authenticated like the gateway: the same bearer key is its master key.
        f"general_settings:\n  master_key: {KEY}\n")
    proc = subprocess.Popen([command, "--config", str(config), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, timeout=120)
    return port, proc


# -- load ----------------------------------------------------------------------------------

BODY = orjson.dumps({"model": MODEL, "max_tokens": 16,
                     "messages": [{"role": "user", "content": "Say hello."}]})
STREAM_BODY = orjson.dumps({"model": MODEL, "max_tokens": 16, "stream": True,
                            "messages": [{"role": "user", "content": "Say hello."}]})
HEADERS = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}


WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{BODY.decode()}'
wrk.headers["Authorization"] = "Bearer {KEY}"
wrk.headers["Content-Type"] = "application/json"
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_load(url: str, concurrency: int, seconds: float) -> tuple[float, float, float]:
    """p50 and p99 (ms) and requests/second from wrk, a load generator in C: a Python load
    generator would eat the CPU that the services under test share on a small machine."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
             "-s", script.name, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: some answers were not 200\n{out}")

    def latency(label: str) -> float:
        value = out.split(f" {label} ", 1)[1].split()[0]
        unit = value.lstrip("0123456789.")
        return float(value[: -len(unit)]) * UNITS[unit]

    rps = float(out.split("Requests/sec:", 1)[1].split()[0])
    return latency("50%"), latency("99%"), rps


async def load(url: str, concurrency: int, seconds: float, requests: int,
               body: bytes = BODY, first_byte: bool = False) -> tuple[list[float], float]:
    """Latencies (ms) of completed requests and the achieved requests/second."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                began = time.perf_counter()
                async with session.post(url, data=body, headers=HEADERS) as resp:
                    if first_byte:
                        await resp.content.readuntil(b"data: ")
                        latencies.append((time.perf_counter() - began) * 1000)
                        await resp.read()
                    else:
                        await resp.read()
                        latencies.append((time.perf_counter() - began) * 1000)
                    if resp.status != 200:
                        raise RuntimeError(f"{url}: HTTP {resp.status} {await resp.read()!r}")

        for _ in range(20):  # warm the connections and the gateway's caches
            async with session.post(url, data=body, headers=HEADERS) as resp:
                await resp.read()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, len(latencies) / elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


Row = tuple[str, float, float, float, float, float]


async def measure(name: str, url: str, seconds: float, requests: int) -> Row:
    if shutil.which("wrk"):
        await load(url, 1, 1, 50)  # warm the connections and the gateway's caches
        p50, p99, _ = wrk_load(url, 1, seconds)
        p50m, p99m, rps = wrk_load(url, 32, seconds)
        return (name, p50, p99, p50m, p99m, rps)
    one, _ = await load(url, 1, seconds, requests // 4)
    many, rps = await load(url, 32, seconds, requests)
    return (name, statistics.median(one), pct(one, 0.99), statistics.median(many),
            pct(many, 0.99), rps)


async def ttft(url: str, seconds: float, requests: int) -> float:
    values, _ = await load(url, 1, seconds, requests // 4, STREAM_BODY, first_byte=True)
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--requests", type=int, default=40_000, help="cap per measurement")
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        up_port = free_port()
        upstream_proc = multiprocessing.Process(target=serve_upstream, args=(up_port,),
                                                daemon=True)
        upstream_proc.start()
        wait_port(up_port)
        upstream = f"http://127.0.0.1:{up_port}"
        try:
            redis_url, redis_proc = start_redis(tmp)
            procs.append(redis_proc)
            publish(redis_url, upstream)
            meter = start_meter(redis_url)
            if meter:
                procs.append(meter)
            gw_port = free_port()
            procs.append(start_gateway(redis_url, gw_port, tmp))
            edge, nginx = start_nginx(tmp, gw_port)
            procs.append(nginx)
            litellm = start_litellm(tmp, upstream)
            if litellm:
                procs.append(litellm[1])

            targets = [("direct upstream", f"{upstream}/v1/chat/completions"),
                       ("gateway (no edge)", f"http://127.0.0.1:{gw_port}/api/v1/chat/completions"),
                       ("edge -> gateway", f"http://127.0.0.1:{edge}/api/v1/chat/completions")]
            if litellm:
                targets.append(("litellm proxy", f"http://127.0.0.1:{litellm[0]}/chat/completions"))

            async def run() -> tuple[list[Row], dict[str, float]]:
                rows = [await measure(n, u, args.seconds, args.requests) for n, u in targets]
                firsts = {n: await ttft(u, args.seconds, args.requests) for n, u in targets[::2]}
                return rows, firsts

            rows, firsts = uvloop.run(run())
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=10)
            upstream_proc.terminate()

    print("load generator:", "wrk" if shutil.which("wrk") else "aiohttp (apt-get install wrk "
          "for figures that do not share the CPU with a Python client)")
    report(rows, firsts)


def report(rows: list[Row], firsts: dict[str, float]) -> None:
    print(f"\n{'target':<20}{'p50 c=1':>10}{'p99 c=1':>10}{'p50 c=32':>10}{'p99 c=32':>10}"
          f"{'req/s c=32':>12}")
    for name, p50, p99, p50m, p99m, rps in rows:
        print(f"{name:<20}{p50:>8.3f}ms{p99:>8.3f}ms{p50m:>8.3f}ms{p99m:>8.3f}ms{rps:>12,.0f}")
    base = rows[0]
    print(f"\n{'overhead vs direct':<20}{'+p50 c=1':>10}{'+p99 c=1':>10}{'rps ratio':>11}")
    for name, p50, p99, _, _, rps in rows[1:]:
        print(f"{name:<20}{p50 - base[1]:>8.3f}ms{p99 - base[2]:>8.3f}ms{rps / base[5]:>11.2f}")
    print("\nstreaming time to first token, p50 at c=1:")
    direct = firsts.get("direct upstream", 0.0)
    for name, value in firsts.items():
        print(f"  {name:<20}{value:>8.3f}ms  (+{value - direct:.3f}ms)")
    edge = next((r for r in rows if r[0] == "edge -> gateway"), None)
    litellm = next((r for r in rows if r[0] == "litellm proxy"), None)
    if edge and litellm:
        print(f"\nedge->gateway vs litellm: {edge[5] / litellm[5]:.1f}x the requests/second, "
              f"{(litellm[1] - base[1]) / max(edge[1] - base[1], 1e-6):.1f}x less added p50")


if __name__ == "__main__":
    main()
