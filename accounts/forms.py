import re
from decimal import Decimal

from django import forms

from accounts.models import LimitReset, PrivacySettings
from marketplace.models import Provider

RESET_CHOICES = [("", "Never (lifetime limit)"), *LimitReset.choices]
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9._-]+)?$")


class LimitFields(forms.Form):
    limit = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=20,
        decimal_places=9,
        label="Credit limit (USD)",
        help_text="Leave empty for no limit.",
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "No limit"}),
    )
    limit_reset = forms.ChoiceField(
        choices=RESET_CHOICES, required=False, label="Limit resets"
    )


class KeyForm(LimitFields):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))
    field_order = ["name", "limit", "limit_reset"]


class NewKeyForm(KeyForm):
    management = forms.BooleanField(
        required=False,
        label="Management key",
        help_text="Can create and manage keys and read credits; cannot call models.",
    )


class ConsentForm(LimitFields):
    pass


def _slugs(value: str) -> str:
    slugs = [s.strip().lower() for s in re.split(r"[,\s]+", value) if s.strip()]
    bad = [s for s in slugs if not SLUG.match(s)]
    if bad:
        raise forms.ValidationError(f"Not a provider slug: {', '.join(bad)}")
    # A typo would silently filter out every endpoint: name the slugs the catalog lacks.
    bases = {s.split("/", 1)[0] for s in slugs}
    known = set(Provider.objects.filter(slug__in=bases).values_list("slug", flat=True))
    unknown = [s for s in slugs if s.split("/", 1)[0] not in known]
    if unknown:
        raise forms.ValidationError(
            f"Unknown provider: {', '.join(unknown)}. The providers page lists every slug."
        )
    return ",".join(dict.fromkeys(slugs))


class PrivacyForm(forms.ModelForm):
    class Meta:
        model = PrivacySettings
        fields = ["prompt_logging", "deny_training", "allow_providers", "ignore_providers"]
        labels = {
            "prompt_logging": "Log my prompts and completions (earns a 1% discount on usage)",
            "deny_training": "Exclude providers that may train on my prompts",
            "allow_providers": "Only use these providers",
            "ignore_providers": "Never use these providers",
        }
        help_texts = {
            "allow_providers": "Comma-separated provider slugs, e.g. openai, anthropic. "
            "Empty means every provider.",
            "ignore_providers": "Comma-separated provider slugs.",
        }
        widgets = {
            "allow_providers": forms.TextInput(attrs={"placeholder": "All providers"}),
            "ignore_providers": forms.TextInput(attrs={"placeholder": "None"}),
        }

    def clean_allow_providers(self) -> str:
        return _slugs(self.cleaned_data["allow_providers"])

    def clean_ignore_providers(self) -> str:
        return _slugs(self.cleaned_data["ignore_providers"])
