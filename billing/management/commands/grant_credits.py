"""Operators: `grant_credits --email E --amount USD [--reason TEXT] [--key KEY]`.

A positive amount is a promotional grant; a negative one a manual adjustment (the reason is
its memo). Either way one ledger row, once per `--key` when given (safe to re-run a script).
"""

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import ledger


class Command(BaseCommand):
    help = "Grant (or, with a negative amount, take back) credits: one ledger row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--amount", required=True, help="USD, e.g. 10 or -2.50")
        parser.add_argument("--reason", default="promo", help="why, kept on the ledger row")
        parser.add_argument("--key", help="idempotency key: the same key grants once")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no account with the e-mail {options['email']!r}")
        try:
            amount = Decimal(options["amount"])
        except InvalidOperation:
            raise CommandError("--amount must be a number of dollars") from None
        kind = ledger.Kind.PROMO if amount > 0 else ledger.Kind.ADJUSTMENT
        key = options["key"] or f"cli:{uuid.uuid4()}"
        try:
            entry = ledger.post(user.pk, amount, kind, key, memo=options["reason"])
        except ledger.LedgerError as exc:
            raise CommandError(str(exc)) from None
        available = ledger.balance(user.pk).available
        self.stdout.write(
            f"{entry.kind} {entry.amount} USD for {user.email} (entry {entry.pk}); "
            f"available now {available} USD"
        )
