"""Pages: keys, connected apps, settings and the OAuth consent screen. Rules live elsewhere."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import keys as key_rules
from accounts import oauth
from accounts.forms import ConsentForm, KeyForm, NewKeyForm, PrivacyForm
from accounts.models import ApiKey, PrivacySettings
from accounts.publish import publish_account_on_commit
from accounts.usage import limit_remaining, usage_of
from config.api_errors import STATE_STORE_DOWN

OAUTH_PARAMS = ("callback_url", "code_challenge", "code_challenge_method", "app_name", "key_label")


def _rows(keys: list[ApiKey]) -> list[dict[str, object]]:
    try:
        usage = usage_of(keys)
    except STATE_STORE_DOWN:
        # Usage lives in Redis; the keys themselves (a key just created among them) do not.
        return [{"key": k, "usage": None, "remaining": None, "last_used": None} for k in keys]
    return [
        {
            "key": k,
            "usage": usage[k.hash].total,
            "remaining": limit_remaining(k, usage[k.hash]),
            "last_used": usage[k.hash].last_used,
        }
        for k in keys
    ]


def _uid(request: HttpRequest) -> int:
    """The signed-in user's id (views using it are behind login_required)."""
    assert request.user.pk is not None
    return int(request.user.pk)


def _own_key(request: HttpRequest, key_hash: str) -> ApiKey:
    return get_object_or_404(ApiKey, hash=key_hash, user_id=_uid(request))


@login_required
@require_http_methods(["GET", "POST"])
def keys_page(request: HttpRequest) -> HttpResponse:
    form = NewKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            new = key_rules.create_key(
                request.user,  # type: ignore[arg-type]
                form.cleaned_data["name"],
                management=form.cleaned_data["management"],
                limit=form.cleaned_data["limit"],
                limit_reset=form.cleaned_data["limit_reset"],
            )
        # Rendered, not redirected: the plaintext must not pass through the session store.
        new_key = new.key
        form = NewKeyForm()
    keys = list(ApiKey.objects.filter(user_id=_uid(request)).select_related("oauth_app"))
    status = 200 if request.method == "GET" or new_key else 400
    return render(
        request,
        "accounts/keys.html",
        {"rows": _rows(keys), "form": form, "new_key": new_key},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_edit(request: HttpRequest, key_hash: str) -> HttpResponse:
    key = _own_key(request, key_hash)
    initial = {"name": key.name, "limit": key.limit, "limit_reset": key.limit_reset}
    form = KeyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        key_rules.update_key(key, **form.cleaned_data)
        messages.success(request, f"Saved “{key.name}”.")
        return redirect("keys")
    return render(request, "accounts/key_edit.html", {"key": key, "form": form})


@login_required
@require_POST
def key_toggle(request: HttpRequest, key_hash: str) -> HttpResponse:
    key = _own_key(request, key_hash)
    key_rules.update_key(key, disabled=not key.disabled)
    messages.success(request, f"“{key.name}” is now {'disabled' if key.disabled else 'enabled'}.")
    return redirect("keys")


@login_required
@require_POST
def key_delete(request: HttpRequest, key_hash: str) -> HttpResponse:
    key = _own_key(request, key_hash)
    key_rules.delete_key(key)
    messages.success(request, f"Deleted “{key.name}”.")
    return redirect("connected_apps" if request.POST.get("from") == "apps" else "keys")


@login_required
@require_GET
def connected_apps(request: HttpRequest) -> HttpResponse:
    keys = list(
        ApiKey.objects.filter(user_id=_uid(request), oauth_app__isnull=False).select_related(
            "oauth_app"
        )
    )
    return render(request, "accounts/connected_apps.html", {"rows": _rows(keys)})


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    privacy, _ = PrivacySettings.objects.get_or_create(user_id=_uid(request))
    form = PrivacyForm(request.POST or None, instance=privacy)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            publish_account_on_commit(_uid(request))
        messages.success(request, "Privacy settings saved.")
        return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form})


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """`/auth`: the consent screen of the OAuth PKCE flow."""
    params = request.POST if request.method == "POST" else request.GET
    challenge = params.get("code_challenge", "")
    headless = params.get("callback_url") in (None, "", oauth.HEADLESS) and \
        bool(params.get("key_label") or params.get("app_name"))
    if headless and not challenge:
        reason = ("Headless sign-in (no callback_url) needs a code_challenge, so that only the "
                  "app that started it can exchange the code.")
        return render(request, "accounts/auth_error.html", {"reason": reason}, status=400)
    try:
        callback = oauth.HEADLESS if headless else \
            oauth.validate_callback_url(params.get("callback_url"))
    except oauth.InvalidCallback as exc:
        reason = str(exc)
        if not params.get("callback_url"):
            reason = ("The callback_url parameter is missing. Command-line apps without a "
                      "callback can use headless sign-in: omit callback_url and send key_label "
                      "and a code_challenge; the code is then shown here to paste into the app.")
        return render(request, "accounts/auth_error.html", {"reason": reason}, status=400)
    try:
        method = oauth.normalise_method(params.get("code_challenge_method"), challenge)
    except oauth.OAuthError as exc:
        return render(request, "accounts/auth_error.html", {"reason": exc.message}, status=400)
    if len(challenge) > 128:
        reason = "The code_challenge is too long."
        return render(request, "accounts/auth_error.html", {"reason": reason}, status=400)
    if not request.user.is_authenticated:
        # Only a GET reaches here signed out; the whole query string survives the sign-in.
        kept = {k: params[k] for k in OAUTH_PARAMS if k in params}
        return redirect_to_login(f"{request.path}?{urlencode(kept)}")
    app_name = (params.get("app_name") or params.get("key_label") or "")[:100]
    form = ConsentForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("decision") != "allow":
            if headless:
                return render(request, "accounts/auth_code.html", {"denied": True,
                                                                   "app_title": app_name})
            return HttpResponseRedirect(oauth.with_params(callback, error="access_denied"))
        if form.is_valid():
            terms = oauth.KeyTerms(
                label=app_name,
                limit=form.cleaned_data["limit"],
                limit_reset=form.cleaned_data["limit_reset"],
            )
            code, _ = oauth.issue_code(
                request.user,
                callback,
                code_challenge=challenge,
                code_challenge_method=method,
                app_name=app_name,
                terms=terms,
            )
            if headless:
                return render(request, "accounts/auth_code.html", {"code": code,
                                                                   "app_title": app_name})
            return HttpResponseRedirect(oauth.with_params(callback, code=code))
    context = {
        "form": form,
        "app_title": app_name or oauth.app_title(callback),
        "app_origin": "a command-line app" if headless else oauth.app_origin(callback),
        "headless": headless,
        "callback_url": callback,
        "code_challenge": challenge,
        "code_challenge_method": method,
        "app_name": app_name,
        "is_local": not headless and oauth.app_title(callback).startswith("localhost:"),
    }
    return render(request, "accounts/consent.html", context, status=400 if form.errors else 200)
