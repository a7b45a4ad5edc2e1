"""Settles that could not reach Redis, kept on local disk until Redis answers again.

A generation that reached its user must be charged even if Redis is away at that moment. The
settle call (its script keys and arguments: amounts, key usage fields, the usage event) is
appended as one JSON line to `<spool dir>/settle-<pid>.jsonl`, fsynced, and a background task
replays the spool once Redis answers. Replaying is idempotent (the settle script skips a
generation whose record exists), so a settle whose reply was lost, and that did run, is not
charged twice.

Several processes may share the directory: a replayer first renames a file to a name of its
own, then takes its lock; a writer locks its file and checks, once locked, that the path still
names the file it opened (else it opens the new one), so no line is ever written into a file
that a replayer has already read.
"""

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from gateway.redis_client import Arg, RedisUnavailable

log = logging.getLogger(__name__)

Replay = Callable[[list[str], list[Arg]], Awaitable[Any]]
# A claimed file this old belongs to a replayer that died: take it over.
ORPHAN_AFTER = 60.0


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _json_arg(arg: Arg) -> Any:
    return arg.decode() if isinstance(arg, bytes) else arg


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"settle-{os.getpid()}.jsonl"
        self._claims = 0

    def write(self, keys: list[str], args: list[Arg]) -> None:
        line = orjson.dumps({"keys": keys, "args": [_json_arg(a) for a in args]}) + b"\n"
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    continue  # a replayer took this file: write to a fresh one
                os.write(fd, line)
                os.fsync(fd)
                return
            finally:
                os.close(fd)  # also releases the lock

    def pending(self) -> int:
        """Lines waiting in the spool (all processes' files)."""
        count = 0
        for path in self.directory.glob("settle-*.jsonl*"):
            with contextlib.suppress(FileNotFoundError):
                count += path.read_bytes().count(b"\n")
        return count

    async def replay(self, run: Replay) -> int:
        """Replay every spooled settle; returns how many ran. Stops at the first call Redis
        does not answer and puts what is left back in the spool."""
        done = 0
        # Files of this process, of others, and ones a dead replayer had claimed.
        for path in sorted(self.directory.glob("settle-*.jsonl*")):
            if ".replay-" in path.name and _age(path) < ORPHAN_AFTER:
                continue  # another process is replaying it right now
            self._claims += 1
            claimed = path.with_name(f"{path.name.split('.jsonl')[0]}.jsonl.replay-"
                                     f"{os.getpid()}-{self._claims}")
            try:
                path.rename(claimed)
                os.utime(claimed)  # its age now says when it was claimed
            except FileNotFoundError:
                continue  # another replayer took it
            lines = self._read_locked(claimed)
            for i, raw in enumerate(lines):
                try:
                    call = orjson.loads(raw)
                    keys, args = call["keys"], call["args"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    # A line cut short by a crash mid-write: nothing to charge can be read.
                    log.error("unreadable spool line skipped: %r", raw[:200])
                    continue
                try:
                    await run(keys, args)
                except RedisUnavailable:
                    self._put_back(lines[i:])
                    claimed.unlink()
                    return done
                done += 1
            claimed.unlink()
        return done

    def _put_back(self, lines: list[bytes]) -> None:
        for raw in lines:
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                call = orjson.loads(raw)
                self.write(call["keys"], call["args"])

    @staticmethod
    def _read_locked(path: Path) -> list[bytes]:
        with path.open("rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # waits for a write in progress
            return [line for line in handle.read().split(b"\n") if line.strip()]


async def replay_forever(spool: Spool, run: Replay, interval: float = 1.0) -> None:
    """The gateway's background task: replay the spool whenever it has anything."""
    while True:
        await asyncio.sleep(interval)
        try:
            if any(spool.directory.glob("settle-*.jsonl*")):
                replayed = await spool.replay(run)
                if replayed:
                    log.info("replayed %d spooled settles", replayed)
        except Exception:  # the loop must survive anything; the lines stay on disk
            log.exception("spool replay failed")
