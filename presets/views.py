"""Pages: one's presets, creating one, editing one (each save is a new version)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from presets.forms import PresetForm
from presets.models import Preset
from presets.rules import save_version


def _uid(request: HttpRequest) -> int:
    assert request.user.pk is not None  # behind login_required
    return int(request.user.pk)


def _save(request: HttpRequest, form: PresetForm) -> Preset:
    data = form.cleaned_data
    saved = save_version(request.user, data["slug"], data["config"], data["system_prompt"],
                         name=data["name"], description=data.get("description") or "")
    return saved.preset


@login_required
@require_http_methods(["GET", "POST"])
def preset_list(request: HttpRequest) -> HttpResponse:
    form = PresetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if Preset.objects.filter(user_id=_uid(request), slug=form.cleaned_data["slug"]).exists():
            form.add_error("slug", "You already have a preset with this slug.")
        else:
            preset = _save(request, form)
            messages.success(request, f"Preset @preset/{preset.slug} created.")
            return redirect("preset_detail", slug=preset.slug)
    presets = Preset.objects.filter(user_id=_uid(request)).select_related("designated_version")
    status = 400 if request.method == "POST" else 200
    return render(request, "presets/list.html", {"presets": presets, "form": form},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def preset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    preset = get_object_or_404(Preset.objects.select_related("designated_version"),
                               user_id=_uid(request), slug=slug)
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["slug"] = preset.slug
    form = PresetForm(data, editing=True, initial=PresetForm.initial_from(preset))
    if request.method == "POST" and form.is_valid():
        _save(request, form)
        messages.success(request, f"Saved as a new version of @preset/{preset.slug}.")
        return HttpResponseRedirect(request.path)
    versions = [(v, json.dumps(v.config, indent=2)) for v in preset.versions.order_by("-version")]
    status = 400 if request.method == "POST" else 200
    return render(request, "presets/detail.html",
                  {"preset": preset, "form": form, "versions": versions}, status=status)
