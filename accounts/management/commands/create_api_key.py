"""Operators and tests: `create_api_key --email E [--name N] [--management] [--credits USD]`.

Prints only the new key on stdout, so `KEY=$(python manage.py create_api_key ...)` works.
"""

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.keys import create_key
from accounts.publish import publish_account_on_commit
from billing.ledger import grant_credits


class Command(BaseCommand):
    help = "Create an API key for a user (created if missing) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Default")
        parser.add_argument("--management", action="store_true")
        parser.add_argument("--credits", help="promotional credit to grant, in USD")
        parser.add_argument("--password", help="set this password (else unusable if new)")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        if "@" not in email:
            raise CommandError("--email must be an email address")
        credits = None
        if options["credits"] is not None:
            try:
                credits = Decimal(options["credits"])
            except InvalidOperation:
                raise CommandError("--credits must be a number of dollars") from None
            if not credits.is_finite() or credits <= 0:
                raise CommandError("--credits must be a positive number of dollars")
        with transaction.atomic():
            user = self._user(email, options["password"])
            if credits is not None:
                grant_credits(user, credits, "promo", f"cli:{uuid.uuid4()}")
            new = create_key(user, options["name"], management=options["management"])
            publish_account_on_commit(user.pk)
        self.stdout.write(new.key)

    def _user(self, email: str, password: str | None) -> Any:
        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(username=email[:150], email=email)
            user.set_unusable_password()
        if password:
            user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user
