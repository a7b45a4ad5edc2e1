"""`manage.py meter`: the long-running process of `make run`, stopped cleanly by a signal."""

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.usage.conftest import pending, stream_of, usage_event
from usage.models import Generation

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ada(transactional_db: None) -> User:
    return User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_runs_until_signalled_and_meters_what_arrives(
    ada: User, publish, redis_client, subprocess_env, signum: int
) -> None:
    meter = subprocess.Popen(
        [sys.executable, "manage.py", "meter", "--batch-size", "10"],
        cwd=ROOT,
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        events = [publish(usage_event(ada.pk)) for _ in range(25)]
        deadline = time.monotonic() + 30
        while Generation.objects.count() < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
        late = publish(usage_event(ada.pk))  # arrives while the consumer waits on the stream
        while not Generation.objects.filter(pk=late["id"]).exists():
            assert time.monotonic() < deadline, "the running consumer did not meter a new event"
            time.sleep(0.05)
    finally:
        meter.send_signal(signum)
        output, _ = meter.communicate(timeout=15)

    assert meter.returncode == 0, output.decode()
    assert b"stopped: 26 generations, 0 dead letters" in output
    assert Generation.objects.count() == len(events) + 1
    assert pending(redis_client) == 0


def test_once_reports_what_it_metered(db: None, publish, redis_client) -> None:
    user = User.objects.create_user("bob", "bob@example.com", "pw-bob-123456")
    for _ in range(3):
        publish(usage_event(user.pk))
    out = io.StringIO()

    call_command("meter", once=True, batch_size=2, stdout=out)

    assert out.getvalue().strip() == "metered 3 usage events"
    assert Generation.objects.count() == 3


def test_once_on_an_empty_stream_creates_the_group(db: None, redis_client) -> None:
    call_command("meter", once=True, stdout=io.StringIO())

    assert redis_client.xinfo_groups(stream_of(0))[0]["name"] == b"meter"


def test_a_batch_size_below_one_is_refused(db: None, redis_client) -> None:
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("meter", once=True, batch_size=0)
