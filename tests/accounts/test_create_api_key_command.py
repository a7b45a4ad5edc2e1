"""`python manage.py create_api_key`: what operators and tests use to get a working key."""

import io
import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from billing.ledger import total_credits
from config import gateway_state
from tests.accounts.conftest import row

pytestmark = pytest.mark.django_db(transaction=True)


def test_prints_only_the_key_for_a_new_verified_user_without_password(make_key):
    key = make_key("New.Person@Example.com")
    assert re.fullmatch(r"sk-or-v1-[0-9a-f]{64}", key)
    user = row(key).user
    assert user.email == "new.person@example.com" and not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified


def test_credits_become_a_ledger_row_and_the_gateway_balance(make_key, redis_client):
    key = make_key("ada@example.com", credits="12.345")
    user = row(key).user
    assert total_credits(user.pk) == Decimal("12.345")
    assert redis_client.hget(gateway_state.account(user.pk), "credits") == b"12345000000"
    assert redis_client.hget(gateway_state.account(user.pk), "purchased") == b"0"


def test_a_second_key_for_the_same_email_reuses_the_user(make_key):
    first = make_key("ada@example.com", password="correct horse battery")
    second = make_key("ada@example.com", name="admin", management=True)
    assert row(first).user == row(second).user
    assert row(second).management and not row(first).management
    assert User.objects.get().check_password("correct horse battery")


@pytest.mark.parametrize("credits", ["-5", "lots", "0", "NaN"])
def test_bad_credit_amounts_are_refused(db, credits):
    with pytest.raises(CommandError):
        call_command(
            "create_api_key", email="ada@example.com", credits=credits, stdout=io.StringIO()
        )
    assert not User.objects.exists()
