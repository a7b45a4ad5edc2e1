# mypy: disable-error-code="union-attr,arg-type,index,attr-defined,var-annotated"
# mypy: disable-error-code="call-arg,unused-ignore"
"""The gateway's Redis client under trouble: reconnects, wrong passwords, a frozen server."""

import asyncio
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.redis_client import Redis, RedisUnavailable
from tests.aio import run
from tests.gateway.redis_servers import redis_server
from tests.servers import free_port


def test_a_reconnect_authenticates_and_selects_before_any_command_runs() -> None:
    """Commands keep arriving while the connection is killed under them, again and again: one
    sent on a new connection before its AUTH and SELECT completed would run on database 0
    instead of the configured one."""
    with redis_server(password="s3cret") as server:
        admin = server.client(0)

        async def one(client: Redis, name: int) -> bool:
            try:
                await client.execute("SET", f"k{name}", 1)
                return True
            except RedisUnavailable:
                return False  # the connection died under this call

        async def scenario() -> int:
            client = Redis.from_url(server.url(3), timeout=2)
            calls = []
            started = time.monotonic()
            kills = 0
            while time.monotonic() - started < 1.5:
                # A new caller every turn of the loop, as requests arrive in the gateway.
                calls.append(asyncio.create_task(one(client, len(calls))))
                await asyncio.sleep(0)
                if len(calls) % 200 == 0:
                    admin.client_kill_filter(_type="normal", skipme=True)
                    kills += 1
            done = sum(await asyncio.gather(*calls))
            await client.aclose()
            assert kills > 5
            return done

        done = run(scenario())
        assert done > 500
        assert admin.dbsize() == 0  # nothing ever ran on database 0
        # A call may fail after Redis ran it (the reply was lost with the connection).
        assert server.client(3).dbsize() >= done


def test_a_wrong_password_fails_cleanly_and_fast() -> None:
    with redis_server(password="right") as server:
        async def scenario() -> str:
            client = Redis.from_url(f"redis://:wrong@127.0.0.1:{server.port}/0", timeout=1)
            try:
                with pytest.raises(RedisUnavailable) as caught:
                    await client.execute("PING")
                return str(caught.value)
            finally:
                await client.aclose()

        started = time.monotonic()
        message = run(scenario())
        assert time.monotonic() - started < 1
        assert "AUTH" in message and ("WRONGPASS" in message or "invalid" in message)


def test_a_frozen_server_times_out_and_a_thawed_one_answers_again() -> None:
    with redis_server() as server:
        async def scenario() -> tuple[float, bool]:
            client = Redis.from_url(server.url(0), timeout=0.3)
            assert await client.ping()
            server.freeze()
            started = time.monotonic()
            try:
                with pytest.raises(RedisUnavailable, match="did not answer"):
                    await client.execute("GET", "x")
                waited = time.monotonic() - started
                with pytest.raises(RedisUnavailable):
                    await client.execute("GET", "x")  # a fresh connection times out too
            finally:
                server.thaw()
            back = await client.ping()
            await client.aclose()
            return waited, back

        waited, back = run(scenario())
        assert 0.25 < waited < 0.6
        assert back


def test_a_stopped_server_is_reported_and_a_restarted_one_is_used() -> None:
    with redis_server() as server:
        async def scenario() -> None:
            client = Redis.from_url(server.url(0), timeout=0.5)
            await client.execute("SET", "a", 1)
            server.process.terminate()
            server.process.wait()
            with pytest.raises(RedisUnavailable):
                await client.execute("GET", "a")
            await client.aclose()

        run(scenario())


def test_rediss_urls_connect_over_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no", "--save", "",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        async def scenario(url: str) -> Any:
            client = Redis.from_url(url, timeout=2)
            try:
                await client.execute("SET", "over", "tls")
                return await client.execute("GET", "over")
            finally:
                await client.aclose()

        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server with TLS did not start"
                time.sleep(0.05)
        # Verified against the server's own certificate, then without verification.
        assert run(scenario(f"rediss://127.0.0.1:{port}/2?ssl_ca_certs={cert}")) == b"tls"
        assert run(scenario(f"rediss://127.0.0.1:{port}/2?ssl_cert_reqs=none")) == b"tls"
        with pytest.raises(RedisUnavailable):  # a plain connection to a TLS port fails cleanly
            run(scenario(f"redis://127.0.0.1:{port}/2"))
    finally:
        server.terminate()
        server.wait(timeout=10)
