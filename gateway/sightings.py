"""First sightings: finish reasons and error types a provider had never returned before.

The gateway notes each (provider, kind, value) it sees: `kind` is "finish_reason" (the
provider's native finish reason) or "error" (an upstream failure, e.g. "http 529"). Each
process remembers what it has reported, so a known pair costs one set lookup; a pair new to the
process is written with HSETNX to `gw:sightings` (field `<provider>|<kind>|<value>`, value the
first time and model as JSON). The Django side turns new fields into admin rows and alerts an
operator once (marketplace/sightings.py).
"""

import asyncio
import logging
import time

import orjson

from gateway.keys import SIGHTINGS
from gateway.redis_client import Redis

log = logging.getLogger(__name__)

MAX_VALUE = 80  # a provider's free text never grows the hash without bound


class Sightings:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._known: set[tuple[str, str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def note(self, provider: str, kind: str, value: str | None, model: str) -> None:
        if not value:
            return
        sighting = (provider, kind, value[:MAX_VALUE])
        if sighting in self._known:
            return
        self._known.add(sighting)
        task = asyncio.get_running_loop().create_task(self._write(sighting, model))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, sighting: tuple[str, str, str], model: str) -> None:
        field = "|".join(sighting)
        first = orjson.dumps({"at": time.time(), "model": model})
        try:
            await self.redis.execute("HSETNX", SIGHTINGS, field, first)
        except Exception as exc:  # not money: forget it here so a later sighting retries
            self._known.discard(sighting)
            log.warning("could not record a first sighting: %s", exc)
