"""`reconcile_balances [--fix]`: compare Redis with the ledger for every account and key.

Prints one line per account or key whose figures differ and a summary line; exits 1 when it
found drift, 0 when it found none. `--fix` rewrites Redis from Postgres (then republishes the
catalog, keys and accounts, and sets gw:ready) and exits 0 once Redis agrees.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts import reconcile


class Command(BaseCommand):
    help = "Compare Redis balances and key usage with the ledger; --fix repairs Redis."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="repair Redis from Postgres")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["fix"]:
            report = reconcile.check()
            for drift in report.drifts:
                self.stdout.write(drift.line())
            self.stdout.write(report.summary())
            if report.drifts:
                sys.exit(1)
            return
        first, last = reconcile.fix()
        for drift in first.drifts:
            self.stdout.write("repaired " + drift.line())
        for drift in last.drifts:
            self.stdout.write("still differs: " + drift.line())
        self.stdout.write(("repaired; now " if first.drifts else "") + last.summary())
        if last.drifts:
            sys.exit(1)
