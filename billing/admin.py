"""Admin: purchases, refunds and disputes, Stripe events, payment settings, provider keys.

Money rows are read-only here: a purchase is changed by Stripe's events, a correction is a
ledger adjustment with a reason, never an edit.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

# The ledger's admin (ledger rows, balances) lives beside its rules; importing it registers it.
from billing.ledger_admin import ReadOnly
from billing.models import BillingProfile, ProviderKey, Purchase, Reversal, StripeEvent


class ReversalInline(admin.TabularInline):
    model = Reversal
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "amount", "reference", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnly):
    list_display = [
        "number",
        "user",
        "source",
        "status",
        "credits",
        "fee",
        "total",
        "reversed",
        "created_at",
    ]
    list_filter = ["status", "source"]
    search_fields = [
        "user__email",
        "checkout_session_id",
        "payment_intent_id",
        "idempotency_key",
    ]
    date_hierarchy = "created_at"
    inlines = [ReversalInline]


@admin.register(Reversal)
class ReversalAdmin(ReadOnly):
    list_display = ["purchase", "kind", "amount", "reference", "created_at"]
    list_filter = ["kind"]
    search_fields = [
        "reference",
        "purchase__user__email",
        "purchase__payment_intent_id",
        "purchase__checkout_session_id",
    ]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnly):
    list_display = ["event_id", "type", "status", "payment_intent_id", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "type", "payment_intent_id", "payload"]


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "auto_topup", "topup_threshold", "topup_amount", "card_last4"]
    search_fields = ["user__email", "customer_id"]
    readonly_fields = ["customer_id", "payment_method_id", "card_brand", "card_last4"]


@admin.register(ProviderKey)
class ProviderKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "provider", "user", "disabled", "is_fallback", "deleted_at"]
    list_filter = ["provider", "disabled"]
    search_fields = ["user__email", "provider", "name"]
    # The secret never leaves the database in clear, not even to staff.
    exclude = ["secret"]
    readonly_fields = ["label", "rejected_at", "deleted_at"]

