"""What the gateway adds: direct-to-upstream vs through the gateway, streamed and not.

    .venv/bin/python bench/gateway_overhead.py [--seconds 5] [--repeats 3] [--compare DIR ...]

Starts, on free loopback ports: a minimal OpenAI-shaped upstream (raw asyncio + uvloop, fixed
answer, in its own process), a private Redis with AOF (`appendfsync everysec`) and
`maxmemory-policy noeviction`, the metering consumer (`manage.py meter`, when DATABASE_URL is
set: in a database of its own), one gateway worker served as the Procfile serves it, and nginx
started by bin/nginx exactly as `make run` starts it. Authentication, balance reservation and
metering are all on: the bench publishes a catalog, an account and a key the way the Django
side does. `--compare DIR` starts another gateway worker from another checkout (e.g.
`git archive <commit> | tar -x -C DIR`) against the same Redis and upstream, measured in the
same run: before and after under the same load.

The load generator is wrk (Debian package `wrk`), a C program: a Python client would compete
for the CPU with what it measures. Each repeat measures every target in turn (so a change of
machine load hits them all), non-streamed and streamed: p50/p99 at concurrency 1 and 32 and
the requests/second at 32. On a shared machine a worker seldom has a core to itself, so the
worker's own CPU time is read from /proc during the c=32 run: "req/s per worker" is requests
per second of the worker's CPU, what one worker serves when it has a core of its own.
Redis round trips per request are counted with MONITOR (commands sent by the worker's own
connections, not those run inside its Lua scripts).

With `--litellm`, LiteLLM's proxy (the `litellm` command on PATH, or named by the LITELLM
environment variable: keep it in a virtualenv of its own, its pins clash with ours) runs
against the same upstream in the same run and its figures are printed too.
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
import threading
import time
from dataclasses import dataclass
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


def http_protocol(checkout: Path) -> str:
    """The `--http` the checkout's Procfile serves its gateway with."""
    line = next((x for x in (checkout / "Procfile").read_text().splitlines()
                 if x.startswith("gateway:")), "")
    words = line.split()
    return words[words.index("--http") + 1] if "--http" in words else "httptools"


def start_gateway(redis_url: str, port: int, tmp: Path, checkout: Path = ROOT
                  ) -> subprocess.Popen[bytes]:
    """One gateway worker of `checkout`, with the options of its Procfile."""
    env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_SPOOL_DIR": str(tmp / f"spool-{port}")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--loop", "uvloop", "--http", http_protocol(checkout),
         "--no-access-log", "--no-proxy-headers", "--log-level", "warning"],
        cwd=checkout, env={**env, "PYTHONPATH": str(checkout)})
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
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
KINDS = {"plain": BODY, "stream": STREAM_BODY}


@dataclass
class Target:
    name: str
    url: str
    pid: int | None = None  # the gateway worker whose CPU time is read, if any


@dataclass
class Figures:
    p50: float  # ms, c=1
    p99: float
    p50_many: float  # ms, c=32
    p99_many: float
    rps: float  # achieved at c=32
    per_cpu: float | None  # requests per second of the worker's own CPU time, c=32


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, body: bytes, concurrency: int, seconds: float) -> tuple[float, float, float, int]:
    """p50 and p99 (ms), requests/second and the number of requests, from wrk."""
    script = (f'wrk.method = "POST"\nwrk.body = \'{body.decode()}\'\n'
              f'wrk.headers["Authorization"] = "Bearer {KEY}"\n'
              'wrk.headers["Content-Type"] = "application/json"\n')
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
             "-s", file.name, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: some answers were not 200\n{out}")

    def latency(label: str) -> float:
        value = out.split(f" {label} ", 1)[1].split()[0]
        unit = value.lstrip("0123456789.")
        return float(value[: -len(unit)]) * UNITS[unit]

    rps = float(out.split("Requests/sec:", 1)[1].split()[0])
    count = int(out.split(" requests in ", 1)[0].split()[-1])
    return latency("50%"), latency("99%"), rps, count


def measure(target: Target, kind: str, seconds: float) -> Figures:
    body = KINDS[kind]
    wrk(target.url, body, 4, 1)  # warm the connections and the gateway's caches
    p50, p99, _, _ = wrk(target.url, body, 1, seconds)
    before = cpu_seconds(target.pid) if target.pid else 0.0
    p50m, p99m, rps, count = wrk(target.url, body, 32, seconds)
    used = cpu_seconds(target.pid) - before if target.pid else 0.0
    return Figures(p50, p99, p50m, p99m, rps, count / used if used > 0 else None)


async def ttft(url: str, requests: int = 300) -> float:
    """Median time to the first streamed event at c=1 (aiohttp: wrk cannot see it)."""
    values: list[float] = []
    async with aiohttp.ClientSession() as session:
        for n in range(requests + 20):
            began = time.perf_counter()
            async with session.post(url, data=STREAM_BODY, headers=HEADERS) as resp:
                await resp.content.readuntil(b"data: ")
                if n >= 20:  # the first ones warm up
                    values.append((time.perf_counter() - began) * 1000)
                await resp.read()
    return statistics.median(values)


# -- Redis round trips ---------------------------------------------------------------------

def local_ports(pid: int) -> set[int]:
    """Local TCP ports of the process's sockets (its Redis connections among them)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[9] in inodes:
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def round_trips(redis_url: str, target: Target, kind: str, requests: int = 400
                ) -> dict[str, float]:
    """Commands the worker sent to Redis per request (by command, and "total"), at c=1:
    script-internal commands are not round trips, MONITOR shows them from "lua"."""
    assert target.pid is not None
    asyncio.run(_requests(target.url, KINDS[kind], 20))  # warm
    ports = local_ports(target.pid)
    monitor = redis.Redis.from_url(redis_url).monitor()
    counts: dict[str, float] = {}
    with monitor as stream:
        def load() -> None:
            asyncio.run(_requests(target.url, KINDS[kind], requests))
            time.sleep(0.3)  # what the last requests set off (a statistics flush) is counted
            redis.Redis.from_url(redis_url).execute_command("ECHO", "bench-done")

        runner = threading.Thread(target=load)
        runner.start()
        for entry in stream.listen():
            if "bench-done" in entry["command"]:
                break
            client = entry.get("client_address", "")
            port = entry.get("client_port", "")
            if client == "lua" or not str(port).isdigit() or int(port) not in ports:
                continue
            name = entry["command"].split(" ", 1)[0].upper()
            counts[name] = counts.get(name, 0) + 1
        runner.join()
    per = {name: n / requests for name, n in sorted(counts.items(), key=lambda x: -x[1])}
    per["total"] = sum(counts.values()) / requests
    return per


async def _requests(url: str, body: bytes, count: int) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            async with session.post(url, data=body, headers=HEADERS) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{url}: HTTP {resp.status}")


# -- the run -------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over every target")
    parser.add_argument("--compare", type=Path, action="append", default=[],
                        help="another checkout's gateway, same run (repeatable)")
    parser.add_argument("--no-edge", action="store_true", help="skip nginx -> gateway")
    parser.add_argument("--litellm", action="store_true", help="LiteLLM's proxy as well")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk): a Python load generator would share "
                 "the CPU with what it measures")

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
            path = "/api/v1/chat/completions"
            targets = [Target("direct upstream", f"{upstream}/v1/chat/completions")]
            gw_port = free_port()
            gateway = start_gateway(redis_url, gw_port, tmp)
            procs.append(gateway)
            targets.append(Target("gateway", f"http://127.0.0.1:{gw_port}{path}", gateway.pid))
            for checkout in args.compare:
                other_port = free_port()
                other = start_gateway(redis_url, other_port, tmp, checkout.resolve())
                procs.append(other)
                targets.append(Target(f"gateway {checkout.name}",
                                      f"http://127.0.0.1:{other_port}{path}", other.pid))
            if not args.no_edge:
                edge, nginx = start_nginx(tmp, gw_port)
                procs.append(nginx)
                targets.append(Target("edge -> gateway", f"http://127.0.0.1:{edge}{path}",
                                      gateway.pid))
            litellm = start_litellm(tmp, upstream) if args.litellm else None
            if litellm:
                procs.append(litellm[1])
                targets.append(Target("litellm proxy",
                                      f"http://127.0.0.1:{litellm[0]}/chat/completions",
                                      litellm[1].pid))

            runs: dict[tuple[str, str], list[Figures]] = {}
            for _ in range(args.repeats):
                for kind in KINDS:
                    for target in targets:
                        runs.setdefault((target.name, kind), []).append(
                            measure(target, kind, args.seconds))
            firsts = {t.name: uvloop.run(ttft(t.url)) for t in targets
                      if t.name != "litellm proxy"}
            trips = {(t.name, kind): round_trips(redis_url, t, kind)
                     for t in targets if t.name.startswith("gateway") for kind in KINDS}
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=10)
            upstream_proc.terminate()
    report([t.name for t in targets], runs, firsts, trips, args.repeats)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def report(names: list[str], runs: dict[tuple[str, str], list[Figures]],
           firsts: dict[str, float], trips: dict[tuple[str, str], dict[str, float]],
           repeats: int) -> None:
    print(f"\nmedians of {repeats} repeats (range of req/s in brackets); load average "
          f"{os.getloadavg()[0]:.1f} at the end; 'per worker' = req/s per second of the "
          "worker's own CPU")
    print(f"{'target':<22}{'kind':<8}{'p50 c=1':>9}{'p99 c=1':>9}{'p50 c=32':>10}"
          f"{'p99 c=32':>10}{'req/s c=32 [range]':>24}{'per worker':>12}{'+p50 c=1':>10}"
          f"{'ratio':>7}")
    for kind in KINDS:
        base = runs[(names[0], kind)]
        base_p50 = statistics.median(f.p50 for f in base)
        base_rps = statistics.median(f.rps for f in base)
        for name in names:
            figures = runs[(name, kind)]
            p50 = statistics.median(f.p50 for f in figures)
            rps = [f.rps for f in figures]
            per = _median([f.per_cpu for f in figures])
            spread = f"{statistics.median(rps):,.0f} [{min(rps):,.0f}-{max(rps):,.0f}]"
            print(f"{name:<22}{kind:<8}{p50:>7.3f}ms"
                  f"{statistics.median(f.p99 for f in figures):>7.3f}ms"
                  f"{statistics.median(f.p50_many for f in figures):>8.3f}ms"
                  f"{statistics.median(f.p99_many for f in figures):>8.3f}ms{spread:>24}"
                  f"{'' if per is None else f'{per:,.0f}':>12}"
                  f"{p50 - base_p50:>8.3f}ms{statistics.median(rps) / base_rps:>7.2f}")
    print("\nstreaming time to first event, p50 at c=1:")
    direct = firsts.get(names[0], 0.0)
    for name, value in firsts.items():
        print(f"  {name:<22}{value:>8.3f}ms  (+{value - direct:.3f}ms)")
    print("\nRedis round trips per request at c=1 (commands the worker sent, by command):")
    for (name, kind), counts in trips.items():
        detail = ", ".join(f"{cmd} {n:.2f}" for cmd, n in counts.items() if cmd != "total")
        print(f"  {name:<22}{kind:<8}{counts['total']:>6.2f}  ({detail})")


if __name__ == "__main__":
    main()
