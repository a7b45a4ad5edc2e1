"""The provider keys page (BYOK): add a key (write-only), see it masked, disable or delete it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from billing import byok
from marketplace.models import Provider


class ProviderKeyForm(forms.Form):
    provider = forms.ChoiceField(choices=[])
    key = forms.CharField(
        label="API key",
        max_length=8192,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; you will not see it again.",
    )
    name = forms.CharField(max_length=255, required=False)
    is_fallback = forms.BooleanField(
        required=False,
        label="Use only as a fallback",
        help_text="Tried after the shared capacity instead of before it.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        providers = Provider.objects.filter(enabled=True).order_by("display_name")
        self.fields["provider"].choices = [(p.slug, p.display_name) for p in providers]  # type: ignore[attr-defined]


def _uid(request: HttpRequest) -> int:
    assert request.user.pk is not None
    return int(request.user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def provider_keys(request: HttpRequest) -> HttpResponse:
    form = ProviderKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            key = byok.create(
                _uid(request),
                data["provider"],
                data["key"],
                name=data["name"],
                is_fallback=data["is_fallback"],
            )
        messages.success(request, f"Key {key.label} saved for {key.provider}.")
        return redirect("provider_keys")
    keys = byok.live_keys(_uid(request)).order_by("provider", "sort_order", "created_at")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "billing/provider_keys.html", {"form": form, "keys": keys}, status=status
    )


@login_required
@require_POST
def provider_key_toggle(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_object_or_404(byok.live_keys(_uid(request)), pk=key_id)
    with transaction.atomic():
        byok.update(key, disabled=not key.disabled)
    return redirect("provider_keys")


@login_required
@require_POST
def provider_key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_object_or_404(byok.live_keys(_uid(request)), pk=key_id)
    with transaction.atomic():
        byok.delete(key)
    messages.success(request, f"Key {key.label} deleted.")
    return redirect("provider_keys")
