"""Auto top-up: "when my balance falls below $X, buy $Y" with a saved card, off-session.

At most one charge per crossing: a crossing is named by the account's last credit (the newest
positive ledger row) and the saved card, and the purchase is unique by that name. Fifty
workers that see the same low balance all compute the same name; one creates the purchase
and charges it while holding its row lock, the others find it paid (or failed) and stop. A
retry after a crash charges with the same Stripe idempotency key, so it cannot charge twice.
Once the top-up lands, its purchase row is the newest credit, so the next crossing has a new
name. A declined card fails the crossing; saving another card starts a new one.
"""

import logging
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from billing import fees, ledger, stripe_api, webhooks
from billing.checkout import purchase_once
from billing.models import BillingProfile, LedgerEntry, Purchase

log = logging.getLogger(__name__)


def available(user_id: int) -> Decimal:
    return ledger.balance(user_id).available


def _crossing_key(profile: BillingProfile) -> str:
    last_credit = (
        LedgerEntry.objects.filter(user_id=profile.user_id, amount__gt=0)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return f"topup:{profile.user_id}:{last_credit or 0}:{profile.payment_method_id}"


def maybe_top_up(user_id: int) -> Purchase | None:
    """Charge the saved card if the balance is under the threshold; the purchase this call
    charged (or tried to charge: see its status), None when nothing was due."""
    profile = BillingProfile.objects.filter(user_id=user_id, auto_topup=True).first()
    if profile is None or not profile.has_card:
        return None
    # The crossing's name is read before the balance: a caller that reads the balance after a
    # top-up committed sees it, and one that read it before names the same crossing.
    key = _crossing_key(profile)
    if available(user_id) >= profile.topup_threshold:
        return None
    try:
        quote = fees.quote(profile.topup_amount)
    except fees.AmountError as error:
        _failed(profile, str(error))
        return None
    purchase = purchase_once(user_id, quote, key, Purchase.Source.AUTO_TOPUP)
    return _charge(purchase.pk, profile)


def _charge(purchase_id: int, profile: BillingProfile) -> Purchase | None:
    with transaction.atomic():
        # The row lock makes concurrent callers wait for the one charging, then see its result.
        purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
        if purchase.status != Purchase.Status.PENDING:
            return None
        result = stripe_api.charge_off_session(
            purchase_id=purchase.pk,
            user_id=purchase.user_id,
            total_cents=int(purchase.total * 100),
            customer_id=profile.customer_id,
            payment_method_id=profile.payment_method_id,
            idempotency_key=purchase.idempotency_key,
        )
        if result.payment_intent_id:
            purchase.payment_intent_id = result.payment_intent_id
        if not result.succeeded:
            purchase.status = Purchase.Status.FAILED
            purchase.failure = result.error
            purchase.save()
            transaction.on_commit(lambda: _failed(profile, result.error))
            return purchase
        webhooks.credit(purchase, ledger_key=f"stripe:{result.payment_intent_id}")
        BillingProfile.objects.filter(pk=profile.pk).update(topup_error="", topup_error_at=None)
        return purchase


def _failed(profile: BillingProfile, reason: str) -> None:
    """Shown on the credits page and e-mailed once per failure."""
    BillingProfile.objects.filter(pk=profile.pk).update(
        topup_error=reason, topup_error_at=timezone.now()
    )
    email = profile.user.email
    if not email:
        return
    send_mail(
        f"[{settings.SITE_NAME}] Auto top-up failed",
        f"We could not add ${profile.topup_amount:,.2f} of credits to your account: {reason}\n\n"
        f"Update your card or buy credits at {settings.SITE_URL}/credits",
        None,
        [email],
        fail_silently=True,
    )


def top_up_all() -> int:
    """The beat task's sweep: every account with auto top-up on; returns how many charged."""
    charged = 0
    for user_id in (
        BillingProfile.objects.filter(auto_topup=True)
        .exclude(payment_method_id="")
        .values_list("user_id", flat=True)
    ):
        try:
            if maybe_top_up(user_id) is not None:
                charged += 1
        except Exception:  # one account's trouble must not stop the others' top-ups
            log.exception("auto top-up of user %s failed", user_id)
    return charged


def after_usage(user_ids: set[int]) -> None:
    """The metering path, inside its transaction: once it commits, check the accounts it
    charged that have auto top-up on (one query; the check itself runs on a worker)."""
    if not user_ids:
        return
    with connection.cursor() as cursor:  # one array parameter for the batch's accounts
        cursor.execute(
            f"SELECT user_id FROM {BillingProfile._meta.db_table}"  # noqa: S608
            " WHERE user_id = ANY(%s::bigint[]) AND auto_topup AND payment_method_id <> ''",
            [list(user_ids)],
        )
        due = [user_id for (user_id,) in cursor.fetchall()]
    if due:
        from billing.tasks import auto_top_up_account

        for user_id in due:
            transaction.on_commit(partial(auto_top_up_account.delay, user_id))
