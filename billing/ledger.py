"""The ledger: the one way money moves, and the one way to read a balance.

Every movement is a `LedgerEntry` with a unique idempotency key, and each account's `Balance`
row is moved in the same transaction by a single `INSERT … ON CONFLICT DO UPDATE SET x = x + …`,
so concurrent writers never lose an update and a balance is one row to read.

Signs: amounts are signed USD. purchase and promo are positive; usage and refund negative;
an adjustment is either (never zero) and needs a memo. A refund takes back purchased credit.

Other apps learn that an account's credits changed through the `credits_changed` signal
(sent inside the transaction that moved them): billing never imports accounts.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.dispatch import Signal

from billing.models import Balance, LedgerEntry

Kind = LedgerEntry.Kind
NANO = Decimal("0.000000001")

# Sent with `user_id` inside the transaction that changed the account's credits.
credits_changed = Signal()

_POSITIVE = {Kind.PURCHASE, Kind.PROMO}
_NEGATIVE = {Kind.USAGE, Kind.REFUND}

# The Balance columns each kind moves: (credits, purchased, promotional, usage) per USD.
_MOVES: dict[str, tuple[int, int, int, int]] = {
    Kind.PURCHASE: (1, 1, 0, 0),
    Kind.PROMO: (1, 0, 1, 0),
    Kind.REFUND: (1, 1, 0, 0),
    Kind.ADJUSTMENT: (1, 0, 0, 0),
    Kind.USAGE: (0, 0, 0, -1),
}


class LedgerError(ValueError):
    """A movement the ledger refuses (unknown kind, wrong sign, not exact to the nano-dollar)."""


def _exact(amount: Decimal | int | str) -> Decimal:
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError):
        raise LedgerError(f"not an amount of USD: {amount!r}") from None
    if not value.is_finite():
        raise LedgerError(f"not an amount of USD: {amount!r}")
    if value != value.quantize(NANO):
        raise LedgerError(f"{value} USD is not a whole number of nano-dollars")
    if abs(value) >= Decimal(10) ** 11:
        raise LedgerError(f"{value} USD is out of range")
    return value.quantize(NANO)


def check_movement(amount: Decimal | int | str, kind: str, memo: str = "") -> None:
    """Raise LedgerError if `post` would refuse this movement."""
    _check(_exact(amount), kind, memo)


def _check(amount: Decimal, kind: str, memo: str) -> None:
    if kind not in Kind.values:
        raise LedgerError(f"unknown ledger kind {kind!r}")
    if kind in _POSITIVE and amount <= 0:
        raise LedgerError(f"a {kind} must be a positive amount, got {amount}")
    if kind in _NEGATIVE and amount >= 0:
        raise LedgerError(f"a {kind} must be a negative amount, got {amount}")
    if kind == Kind.ADJUSTMENT and (amount == 0 or not memo.strip()):
        raise LedgerError("an adjustment needs a non-zero amount and a reason (memo)")


def _add_to_balances(rows: Iterable[tuple[int, str, Decimal]]) -> None:
    """Move the Balance rows of (user_id, kind, amount) movements, in one statement.

    Accounts are locked in user-id order, so two writers touching the same accounts can
    never deadlock.
    """
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for user_id, kind, amount in rows:
        for i, factor in enumerate(_MOVES[kind]):
            sums[user_id][i] += factor * amount
    if not sums:
        return
    users = sorted(sums)
    columns = [[sums[u][i] for u in users] for i in range(4)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            insert into billing_balance
                (user_id, credits, purchased, promotional, usage, updated_at)
            select u, c, p, pr, us, now()
            from unnest(%s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[],
                        %s::numeric[]) as t(u, c, p, pr, us)
            order by u
            on conflict (user_id) do update set
                credits = billing_balance.credits + excluded.credits,
                purchased = billing_balance.purchased + excluded.purchased,
                promotional = billing_balance.promotional + excluded.promotional,
                usage = billing_balance.usage + excluded.usage,
                updated_at = excluded.updated_at
            """,
            [users, *columns],
        )


def post(
    user_id: int,
    amount: Decimal,
    kind: str,
    idempotency_key: str,
    *,
    memo: str = "",
    reference: str = "",
) -> LedgerEntry:
    """Record one movement once per `idempotency_key`; a repeated key returns the first row.

    Raises LedgerError for an unknown kind, a sign that does not match the kind, an amount
    finer than a nano-dollar, or an adjustment without a reason.
    """
    value = _exact(amount)
    _check(value, kind, memo)
    if not idempotency_key or len(idempotency_key) > 200:
        raise LedgerError("an idempotency key of 1 to 200 characters is required")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                insert into billing_ledgerentry
                    (user_id, amount, kind, idempotency_key, reference, memo, created_at)
                values (%s, %s, %s, %s, %s, %s, now())
                on conflict (idempotency_key) do nothing
                returning id
                """,
                [user_id, value, kind, idempotency_key, reference[:200], memo],
            )
            row = cursor.fetchone()
        if row is None:
            return LedgerEntry.objects.get(idempotency_key=idempotency_key)
        _add_to_balances([(user_id, kind, value)])
        if kind != Kind.USAGE:
            credits_changed.send(sender=LedgerEntry, user_id=user_id)
        return LedgerEntry.objects.get(pk=row[0])


def usage_key(generation_id: str) -> str:
    """The idempotency key of the usage row that starts with this generation."""
    return f"gen:{generation_id}"


def record_usage(charges: Iterable[tuple[int | None, str, Decimal]]) -> int:
    """Charge generations stored for the first time in the caller's transaction: one usage row
    per account, for the sum of its generations' costs (user_id, generation_id, cost USD).

    The metering consumer calls it with the generations its insert found new, so an event
    delivered again reaches no charge: the generation table, in the same transaction, is what
    makes a charge happen once. A call repeated with the same generations is refused by the
    row's idempotency key (the account's first generation id). Free generations and ones
    without an owner write nothing. Returns how many generations were newly charged.
    """
    per_user: dict[int, tuple[str, Decimal, int]] = {}
    for user_id, generation_id, cost in charges:
        value = _exact(cost)
        if value < 0:
            raise LedgerError(f"generation {generation_id} has a negative cost {value}")
        if user_id is None or value == 0:
            continue
        first, total, count = per_user.get(user_id, (generation_id, Decimal(0), 0))
        per_user[user_id] = (min(first, generation_id), total + value, count + 1)
    if not per_user:
        return 0
    users = sorted(per_user)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            insert into billing_ledgerentry (user_id, amount, kind, idempotency_key, reference,
                                             memo, generations, created_at)
            select u, a, 'usage', k, substr(k, 5), '', n, now()
            from unnest(%s::bigint[], %s::numeric[], %s::text[], %s::int[]) as t(u, a, k, n)
            on conflict (idempotency_key) do nothing
            returning user_id, amount, generations
            """,
            [users, [-per_user[u][1] for u in users], [usage_key(per_user[u][0]) for u in users],
             [per_user[u][2] for u in users]],
        )
        new = cursor.fetchall()
        _add_to_balances((user_id, Kind.USAGE, amount) for user_id, amount, _ in new)
    return sum(count for _, _, count in new)


def balance(user_id: int) -> Balance:
    """The account's balance, one row (all zero for an account without ledger rows)."""
    return Balance.objects.filter(user_id=user_id).first() or Balance(user_id=user_id)


def balances(user_ids: Iterable[int] | None = None) -> dict[int, Balance]:
    """Balances of many accounts (every account with ledger rows when `user_ids` is None)."""
    rows = Balance.objects.all()
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    return {row.user_id: row for row in rows}


def grant_credits(
    user: AbstractBaseUser, amount: Decimal, kind: str, reference: str
) -> LedgerEntry:
    """Credit `amount` USD once per `reference` (the idempotency key)."""
    return post(user.pk, amount, kind, reference, reference=reference)


def total_credits(user_id: int) -> Decimal:
    return balance(user_id).credits


def purchased_credits(user_id: int) -> Decimal:
    return balance(user_id).purchased
