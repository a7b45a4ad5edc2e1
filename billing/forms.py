"""Forms of the credits page."""

from decimal import Decimal

from django import forms

from billing import fees
from billing.models import BillingProfile


class BuyForm(forms.Form):
    amount = forms.CharField(
        label="Credits to buy (USD)",
        initial="10",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    # One token per rendered form: a double click or a resubmission reuses the purchase.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self) -> Decimal:
        try:
            return fees.quote(fees.parse_amount(self.cleaned_data["amount"])).credits
        except fees.AmountError as error:
            raise forms.ValidationError(str(error)) from None


class AutoTopUpForm(forms.ModelForm):
    topup_threshold = forms.DecimalField(
        label="When my balance falls below (USD)",
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
    )
    topup_amount = forms.DecimalField(label="Buy this much (USD)", max_digits=12, decimal_places=2)

    class Meta:
        model = BillingProfile
        fields = ["auto_topup", "topup_threshold", "topup_amount"]
        labels = {"auto_topup": "Top up automatically with my saved card"}

    def clean_topup_amount(self) -> Decimal:
        try:
            return fees.quote(self.cleaned_data["topup_amount"]).credits
        except fees.AmountError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("auto_topup") and not self.instance.has_card:
            raise forms.ValidationError("Save a card first: auto top-up charges it.")
        return data


class LowBalanceForm(forms.ModelForm):
    low_balance_threshold = forms.DecimalField(
        label="Warn me when my balance is under (USD)",
        required=False,
        min_value=Decimal(0),
        help_text="A banner on every page; leave empty for no warning.",
        max_digits=12,
        decimal_places=2,
    )

    class Meta:
        model = BillingProfile
        fields = ["low_balance_threshold", "low_balance_email"]
        labels = {"low_balance_email": "Also send me an e-mail"}


class LocalCardForm(forms.Form):
    number = forms.CharField(
        label="Card number",
        initial="4242 4242 4242 4242",
        max_length=23,
        help_text="Test mode: 4000 0000 0000 0002 is declined, any other number works.",
    )

    def clean_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit())
        if not 12 <= len(digits) <= 19:
            raise forms.ValidationError("Enter a card number of 12 to 19 digits.")
        return digits
