"""Admin of the ledger: rows are searchable and read-only; a manual adjustment (or a promotional
grant) is a new row, posted through billing.ledger with its reason, never an edit of a row."""

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from billing import ledger
from billing.models import Balance, LedgerEntry


class ReadOnly(admin.ModelAdmin):
    """Money records are read, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NewMovementForm(forms.ModelForm):
    kind = forms.ChoiceField(
        choices=[
            (LedgerEntry.Kind.ADJUSTMENT, "Manual adjustment"),
            (LedgerEntry.Kind.PROMO, "Promotional grant"),
        ]
    )
    memo = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = LedgerEntry
        fields = ["user", "kind", "amount", "memo"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if {"kind", "amount", "memo"} <= data.keys():
            try:
                ledger.check_movement(data["amount"], data["kind"], data["memo"])
            except ledger.LedgerError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "amount", "reference", "memo"]
    list_filter = ["kind"]
    search_fields = ["user__email", "idempotency_key", "reference", "memo"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    form = NewMovementForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        who = getattr(request.user, "email", "") or str(request.user)
        entry = ledger.post(
            obj.user_id,
            obj.amount,
            obj.kind,
            f"admin:{uuid.uuid4()}",
            memo=f"{obj.memo} (by {who})",
        )
        obj.pk, obj.created_at, obj.idempotency_key = (
            entry.pk,
            entry.created_at,
            entry.idempotency_key,
        )
        obj._state.adding = False


@admin.register(Balance)
class BalanceAdmin(ReadOnly):
    list_display = [
        "user",
        "credits",
        "purchased",
        "promotional",
        "usage",
        "available",
        "updated_at",
    ]
    search_fields = ["user__email"]
    list_select_related = ["user"]
