from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rankings import seed
from rankings.refresh import refresh_rankings


class Command(BaseCommand):
    help = (
        "Load synthetic usage history (marked as demo data on every page) through the real "
        "generation table and its rollup triggers, then refresh the rankings; --clear removes it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--generations", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--accounts", type=int, default=200)
        parser.add_argument("--apps", type=int, default=300)
        parser.add_argument("--models", type=int, default=60)
        parser.add_argument("--batch-size", type=int, default=20_000)
        parser.add_argument("--clear", action="store_true", help="remove the demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear"]:
            removed = seed.clear()
            refresh_rankings()
            self.stdout.write(f"removed {removed} synthetic generations and their accounts")
            return
        if options["generations"] < 1 or options["days"] < 1 or options["accounts"] < 1:
            raise CommandError("--generations, --days and --accounts must be at least 1")
        done = seed.seed(
            options["generations"], options["days"], batch_size=options["batch_size"],
            accounts=options["accounts"], apps=options["apps"], models=options["models"],
            progress=lambda n: self.stdout.write(f"  {n} generations", ending="\r"),
        )
        timings = refresh_rankings()
        self.stdout.write(
            f"loaded {done} synthetic generations over {options['days']} days; rankings "
            f"refreshed in {sum(timings.values()):.1f}s"
        )
