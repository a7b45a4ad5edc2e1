"""Nothing lost: a consumer killed with SIGKILL mid-batch loses nothing and duplicates nothing."""

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import User
from django.db import connection, transaction

from tests.usage.conftest import pending, usage_event
from usage.metering import STREAMS
from usage.models import Generation

ROOT = Path(__file__).resolve().parents[2]


StartMeter = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_meter(subprocess_env: dict[str, str]) -> Iterator[StartMeter]:
    """`manage.py meter ARGS` as a process; any still running when the test ends is killed.

    A consumer left running by a failed test would go on storing the next tests' events
    (same database, same Redis database) and hold locks that block the database's flush."""
    started: list[subprocess.Popen[bytes]] = []

    def start(log: Path, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "meter", *args],
            cwd=ROOT,
            env=subprocess_env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0,
               explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}\n{explain()}")
        time.sleep(0.02)


def consumer_pending(client: redis.Redis, name: str) -> int:
    total = 0
    for stream in STREAMS:
        try:
            consumers = client.xinfo_consumers(stream, "meter")
        except redis.ResponseError:  # the consumer has not created its group yet
            continue
        total += sum(int(c["pending"]) for c in consumers if c["name"].decode() == name)
    return total


def sessions(app: str, only_waiting: bool = False) -> int:
    """The killed consumer's database sessions (application_name = PGAPPNAME)."""
    with connection.cursor() as cursor:
        # Inside a transaction pg_stat_activity is a snapshot taken at first use: refresh it.
        cursor.execute("select pg_stat_clear_snapshot()")
        cursor.execute(
            "select count(*) from pg_stat_activity where application_name = %s"
            " and (not %s or wait_event_type = 'Lock')",
            [app, only_waiting],
        )
        return int(cursor.fetchone()[0])


def activity(app: str) -> str:
    """What the consumer's sessions are doing, for a failure message."""
    with connection.cursor() as cursor:
        cursor.execute("select pg_stat_clear_snapshot()")
        cursor.execute(
            "select pid, state, wait_event_type, wait_event, left(query, 120)"
            " from pg_stat_activity where application_name = %s",
            [app],
        )
        return "\n".join(map(repr, cursor.fetchall())) or "(no sessions)"


def end_sessions_of_dead_client(app: str) -> None:
    """What Postgres does by itself once it notices the client is gone (here: at once).

    A session blocked on our lock would otherwise only notice when its insert finishes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
            [app],
        )
    wait_until(lambda: sessions(app) == 0, "the dead consumer's sessions are gone")


@contextmanager
def generations_locked() -> Iterator[None]:
    """Hold a lock that lets the consumer read the stream and start its insert, not finish it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("lock table rankings_generation in share mode")
        yield


def stored_more(process: subprocess.Popen[bytes], than: int) -> bool:
    return Generation.objects.count() > than or process.poll() is not None


@pytest.fixture
def ada(transactional_db: None) -> User:
    return User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")


@pytest.mark.parametrize(
    "restart",
    [
        ["--consumer", "crashy"],  # same name: re-reads its own pending entries
        ["--claim-idle", "0"],  # new hostname-pid name: claims the dead consumer's entries
    ],
    ids=["same-name", "new-name"],
)
def test_killed_between_read_and_commit(
    ada: User, publish, redis_client, subprocess_env, start_meter: StartMeter, tmp_path,
    restart: list[str],
) -> None:
    events = [publish(usage_event(ada.pk)) for _ in range(50)]
    log = tmp_path / "meter.log"

    with generations_locked():
        meter = start_meter(log, "--consumer", "crashy", "--batch-size", "20")
        wait_until(lambda: consumer_pending(redis_client, "crashy") == 20, "a batch is read")
        app = subprocess_env["PGAPPNAME"]
        wait_until(lambda: sessions(app, only_waiting=True) == 1, "its insert waits on the lock",
                   explain=lambda: f"{activity(app)}\n{log.read_text()}")
        meter.send_signal(signal.SIGKILL)
        meter.wait(timeout=10)
        end_sessions_of_dead_client(app)

    assert Generation.objects.count() == 0
    assert pending(redis_client) == 20

    again = start_meter(log, "--once", *restart)
    assert again.wait(timeout=60) == 0, log.read_text()

    assert sorted(Generation.objects.values_list("id", flat=True)) == sorted(
        e["id"] for e in events
    )
    assert pending(redis_client) == 0


def test_killed_at_random_moments(
    ada: User, publish, redis_client, start_meter: StartMeter, tmp_path
) -> None:
    events = [publish(usage_event(ada.pk)) for _ in range(3000)]
    log = tmp_path / "meter.log"
    rng = random.Random(7)
    kills_mid_stream = 0

    for _ in range(3):
        meter = start_meter(log, "--batch-size", "25", "--claim-idle", "0")
        stored_before = Generation.objects.count()
        # Kill once it is busy: some batches committed, the stream not yet drained.
        wait_until(partial(stored_more, meter, stored_before), "the consumer stores something")
        time.sleep(rng.uniform(0.0, 0.3))
        meter.send_signal(signal.SIGKILL)
        meter.wait(timeout=10)
        if Generation.objects.count() < len(events):
            kills_mid_stream += 1

    final = start_meter(log, "--once", "--claim-idle", "0")
    assert final.wait(timeout=120) == 0, log.read_text()

    assert kills_mid_stream >= 2  # the kills did land in the middle of the work
    stored = list(Generation.objects.values_list("id", flat=True))
    assert len(stored) == len(set(stored)) == len(events)
    assert set(stored) == {e["id"] for e in events}
    assert pending(redis_client) == 0
