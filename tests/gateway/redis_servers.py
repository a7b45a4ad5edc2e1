"""Throwaway redis-server processes for tests that stop, freeze or cluster Redis."""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from tests.servers import free_port


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too and below 65536."""
    while True:
        port = random.randint(20000, 55000)
        if _bindable(port) and _bindable(port + 10000):
            return port


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    password: str | None = None

    def url(self, db: int = 0) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db))

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing answers (a stalled or swapping server)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def _wait_until_up(port: int, password: str | None) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port, password=password, socket_timeout=0.5).ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def redis_server(*args: str, password: str | None = None) -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port, without persistence."""
    port = free_cluster_port() if "--cluster-enabled" in args else free_port()
    workdir = tempfile.mkdtemp(prefix="redis-test-")
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", workdir, *args]
    if password:
        command += ["--requirepass", password]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    server = RedisServer(port, process, password)
    try:
        _wait_until_up(port, password)
        yield server
    finally:
        server.thaw()
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[list[RedisServer]]:
    """`masters` cluster-enabled servers joined into one Redis Cluster (no replicas)."""
    with _many(masters, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000") as nodes:
        # Each node keeps its cluster state (nodes.conf) in its own working directory.
        subprocess.run(
            ["redis-cli", "--cluster", "create",
             *[f"127.0.0.1:{n.port}" for n in nodes], "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, env={**os.environ},
        )
        deadline = time.monotonic() + 15
        while any(n.client().cluster("info").get("cluster_state") != "ok" for n in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not come up")
            time.sleep(0.1)
        yield nodes


@contextmanager
def _many(count: int, *args: str) -> Iterator[list[RedisServer]]:
    if count == 0:
        yield []
        return
    with redis_server(*args) as first, _many(count - 1, *args) as rest:
        yield [first, *rest]
