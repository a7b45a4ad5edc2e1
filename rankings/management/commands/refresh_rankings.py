from typing import Any

from django.core.management.base import BaseCommand

from rankings.partitions import ensure_partitions
from rankings.refresh import refresh_rankings


class Command(BaseCommand):
    help = "Turn the hourly usage rollups into the rankings snapshots now (what beat does)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_partitions()
        for job, seconds in refresh_rankings().items():
            self.stdout.write(f"{job}: {seconds:.2f}s")
