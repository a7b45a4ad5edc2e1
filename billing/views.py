"""Pages: credits, checkout (Stripe's or the local test one), receipts; the Stripe webhook.
Rules live in checkout.py, webhooks.py, topup.py and history.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import checkout, fees, history, ledger, receipts, stripe_api, webhooks
from billing.forms import AutoTopUpForm, BuyForm, LocalCardForm, LowBalanceForm
from billing.models import BillingProfile, Purchase

HISTORY_PAGE = 20


def _uid(request: HttpRequest) -> int:
    assert request.user.pk is not None
    return int(request.user.pk)


def _profile(request: HttpRequest) -> BillingProfile:
    return BillingProfile.objects.get_or_create(user_id=_uid(request))[0]


def _credits_page(request: HttpRequest, status: int = 200, **forms: object) -> HttpResponse:
    uid = _uid(request)
    profile = _profile(request)
    page = Paginator(history.rows(uid), HISTORY_PAGE).get_page(request.GET.get("page"))
    context = {
        "balance": ledger.balance(uid),
        "profile": profile,
        "buy_form": BuyForm(initial={"token": checkout.new_form_token()}),
        "topup_form": AutoTopUpForm(instance=profile),
        "low_form": LowBalanceForm(instance=profile),
        "history": page,
        "fee_rate": fees.CARD_FEE_RATE * 100,
        "fee_minimum": fees.CARD_FEE_MINIMUM,
        "minimum": fees.MINIMUM_PURCHASE,
        "maximum": fees.maximum_purchase(),
        "live": stripe_api.live(),
        **forms,
    }
    return render(request, "billing/credits.html", context, status=status)


@login_required
@require_GET
def credits_page(request: HttpRequest) -> HttpResponse:
    return _credits_page(request)


@login_required
@require_POST
def buy(request: HttpRequest) -> HttpResponse:
    form = BuyForm(request.POST)
    if not form.is_valid():
        return _credits_page(request, status=400, buy_form=form)
    purchase = checkout.start_purchase(
        request.user,  # type: ignore[arg-type]
        form.cleaned_data["amount"],
        form.cleaned_data["token"],
        success_url=request.build_absolute_uri(reverse("purchase_success")),
        cancel_url=request.build_absolute_uri(reverse("credits")),
    )
    return HttpResponseRedirect(purchase.checkout_url)


@login_required
@require_http_methods(["GET", "POST"])
def local_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """Stands in for Stripe's hosted page when no Stripe key is set."""
    purchase = get_object_or_404(Purchase, checkout_session_id=session_id, user_id=_uid(request))
    if stripe_api.live():
        return HttpResponseRedirect(purchase.checkout_url)
    if request.method == "POST" and purchase.status == Purchase.Status.PENDING:
        with transaction.atomic():
            checkout.pay_locally(purchase, request.build_absolute_uri(reverse("stripe_webhook")))
        success = reverse("purchase_success") + f"?session_id={session_id}"
        return HttpResponseRedirect(success)
    return render(request, "billing/local_checkout.html", {"purchase": purchase})


@login_required
@require_GET
def purchase_success(request: HttpRequest) -> HttpResponse:
    """Shows the new balance once the webhook credited the purchase; "processing" until then.
    Reloading it changes nothing: only the webhook credits."""
    purchase = get_object_or_404(
        Purchase, checkout_session_id=request.GET.get("session_id", ""), user_id=_uid(request)
    )
    return render(
        request,
        "billing/success.html",
        {"purchase": purchase, "balance": ledger.balance(_uid(request))},
    )


@login_required
@require_GET
def purchase_status(request: HttpRequest, purchase_id: int) -> JsonResponse:
    purchase = get_object_or_404(Purchase, pk=purchase_id, user_id=_uid(request))
    available = ledger.balance(_uid(request)).available
    return JsonResponse({"status": purchase.status, "balance": f"{available:,.2f}"})


def _paid_purchase(request: HttpRequest, purchase_id: int) -> Purchase:
    """The caller's own paid purchase; anyone else's is a 404, as if it did not exist."""
    return get_object_or_404(
        Purchase.objects.select_related("user"),
        pk=purchase_id, user_id=_uid(request), status=Purchase.Status.PAID,
    )


@login_required
@require_GET
def receipt(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = _paid_purchase(request, purchase_id)
    return render(
        request,
        "billing/receipt.html",
        {"purchase": purchase, "lines": checkout.receipt_lines(purchase)},
    )


@login_required
@require_GET
def receipt_pdf(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = _paid_purchase(request, purchase_id)
    response = HttpResponse(receipts.receipt_pdf(purchase), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{receipts.receipt_filename(purchase)}"')
    return response


@login_required
@require_POST
def auto_topup(request: HttpRequest) -> HttpResponse:
    form = AutoTopUpForm(request.POST, instance=_profile(request))
    if not form.is_valid():
        return _credits_page(request, status=400, topup_form=form)
    form.save()
    messages.success(request, "Auto top-up settings saved.")
    if form.instance.auto_topup:
        from billing.tasks import auto_top_up_account

        uid = _uid(request)
        transaction.on_commit(lambda: auto_top_up_account.delay(uid))
    return redirect("credits")


@login_required
@require_POST
def low_balance(request: HttpRequest) -> HttpResponse:
    form = LowBalanceForm(request.POST, instance=_profile(request))
    if not form.is_valid():
        return _credits_page(request, status=400, low_form=form)
    form.instance.low_balance_emailed_at = None
    form.save()
    messages.success(request, "Low-balance warning saved.")
    return redirect("credits")


@login_required
@require_POST
def save_card(request: HttpRequest) -> HttpResponse:
    profile = _profile(request)
    session = stripe_api.create_setup_session(
        user_id=_uid(request),
        email=request.user.email,  # type: ignore[union-attr]
        customer_id=profile.customer_id,
        success_url=request.build_absolute_uri(reverse("card_saved")),
        cancel_url=request.build_absolute_uri(reverse("credits")),
    )
    return HttpResponseRedirect(session.url)


@login_required
@require_http_methods(["GET", "POST"])
def local_card(request: HttpRequest) -> HttpResponse:
    """Stands in for Stripe's card form (setup mode) when no Stripe key is set."""
    form = LocalCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _store_card(request, stripe_api.local_card(form.cleaned_data["number"]))
        return redirect("credits")
    return render(request, "billing/local_card.html", {"form": form})


@login_required
@require_GET
def card_saved(request: HttpRequest) -> HttpResponse:
    """Back from Stripe's setup page: remember the card it saved."""
    _store_card(request, stripe_api.saved_card(request.GET.get("session_id", "")))
    return redirect("credits")


def _store_card(request: HttpRequest, card: stripe_api.Card) -> None:
    profile = _profile(request)
    profile.customer_id = card.customer_id or profile.customer_id
    profile.payment_method_id = card.payment_method_id
    profile.card_brand, profile.card_last4 = card.brand, card.last4
    profile.topup_error, profile.topup_error_at = "", None
    profile.save()
    messages.success(request, f"Card ending in {card.last4} saved for auto top-up.")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = webhooks.receive(request.body, request.headers.get("Stripe-Signature", ""))
    except webhooks.BadEvent as error:
        return JsonResponse(
            {"error": {"code": 400, "message": f"Invalid Stripe event: {error}", "metadata": None}},
            status=400,
        )
    return JsonResponse({"received": True, "status": event.status})
