"""Billing tests make people and keys the way operators do (tests/accounts/conftest.py)."""

from tests.accounts.conftest import ada, ada_key, ada_management_key, bob_key, make_key

__all__ = ["ada", "ada_key", "ada_management_key", "bob_key", "make_key"]
