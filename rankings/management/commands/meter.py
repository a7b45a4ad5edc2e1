import contextlib
import signal
import threading

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Persist usage events from the gateway (the consumer arrives with the gateway work)."

    def handle(self, *args: object, **options: object) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write("Metering consumer placeholder: idle until stopped.")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
