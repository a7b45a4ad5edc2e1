import logging
import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.redis import get_redis
from usage.metering import Consumer, default_consumer_name

logger = logging.getLogger("usage.metering")


class Command(BaseCommand):
    help = "Persist the gateway's usage events (Redis stream gw:usage) as Generation rows."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="process what is in the stream, then exit"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--consumer",
            default=None,
            help="consumer name in the group (default: $METER_CONSUMER or hostname-pid)",
        )
        parser.add_argument(
            "--claim-idle",
            type=float,
            default=60.0,
            help="seconds after which another consumer's unacknowledged entries are taken over",
        )
        parser.add_argument(
            "--trim-every",
            type=float,
            default=5.0,
            help="seconds between trims of the entries every consumer group has acknowledged",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        consumer = Consumer(
            get_redis(),
            name=options["consumer"] or default_consumer_name(),
            batch_size=options["batch_size"],
            claim_idle_ms=int(options["claim_idle"] * 1000),
        )
        if options["once"]:
            count = consumer.drain()
            self.stdout.write(f"metered {count} usage events")
            return
        stop = threading.Event()
        # Finish the batch in hand, then exit: anything not acknowledged stays pending anyway.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logger.info("metering consumer %s started", consumer.name)
        consumer.run(stop, trim_every_s=options["trim_every"])
        totals = consumer.totals
        logger.info(
            "metering consumer %s stopped: %d generations, %d dead letters",
            consumer.name,
            totals.generations,
            totals.dead,
        )
