"""Public rankings pages: /rankings, /apps, /apps/<id> (context built in leaderboards and
showcase; these views only read the request)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from rankings import leaderboards, showcase
from rankings.models import App, AppIcon


def _page(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() else 1


def rankings_page(request: HttpRequest) -> HttpResponse:
    context = leaderboards.rankings_context(request.GET.get("period", "week"), _page(request))
    context["prompt_categories"] = leaderboards.snapshot("prompt_categories") or []
    return render(request, "rankings/rankings.html", context)


def app_icon(request: HttpRequest, app_id: int) -> HttpResponse:
    """The stored favicon of a public app, from our own origin."""
    icon = AppIcon.objects.filter(app_id=app_id, app__hidden=False).exclude(content=b"").first()
    if icon is None:
        raise Http404("No icon")
    response = HttpResponse(bytes(icon.content), content_type=icon.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def apps_page(request: HttpRequest) -> HttpResponse:
    context = showcase.apps_page(request.GET.get("q", "").strip()[:100],
                                 request.GET.get("sort", "tokens"), _page(request))
    return render(request, "rankings/apps.html", context)


class AppForm(forms.ModelForm):
    class Meta:
        model = App
        fields = ["description", "hidden"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3, "maxlength": 500})}
        labels = {"hidden": "Hide this app from public rankings and the showcase"}


def app_page(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_object_or_404(App, pk=app_id)
    owner = showcase.owns(app, request.user.pk if request.user.is_authenticated else None)
    if app.hidden and not owner:
        raise Http404("No such app")
    form = AppForm(request.POST or None, instance=app) if owner else None
    if request.method == "POST":
        if form is None:
            raise Http404("Only the app's owner can edit it")
        if form.is_valid():
            form.save()
            messages.success(request, "Saved.")
            return redirect("app", app_id=app.pk)
    context = showcase.app_page(app) | {"form": form}
    return render(request, "rankings/app.html", context)
