"""The preset form of the pages: a few plain fields that become a version's config."""

import json
from typing import Any

from django import forms

from presets.catalog import unknown_models
from presets.rules import PresetError, clean_config, models_named, valid_slug

TEXT = {"class": "mono", "rows": 3}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class PresetForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(max_length=64, help_text="Call it as @preset/<slug>.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    system_prompt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    models = forms.CharField(
        required=False, widget=forms.Textarea(attrs=TEXT),
        help_text="One model id per line; the ones after the first are fallbacks.",
    )
    temperature = forms.FloatField(required=False, min_value=0, max_value=2)
    max_tokens = forms.IntegerField(required=False, min_value=1)
    provider = forms.CharField(
        required=False, label="Provider preferences (JSON)",
        widget=forms.Textarea(attrs={**TEXT, "placeholder": '{"sort": "price"}'}),
    )
    moa_proposers = forms.CharField(
        required=False, label="Proposers", widget=forms.Textarea(attrs=TEXT),
        help_text="One model id per line (repeat one to sample it several times). "
                  "Leave empty for a plain preset.",
    )
    moa_aggregator = forms.CharField(required=False, label="Aggregator model")
    moa_layers = forms.IntegerField(required=False, min_value=1, max_value=3, initial=1,
                                    label="Layers")
    moa_critique = forms.BooleanField(required=False, label="Critique step before the answer")
    moa_prompt = forms.CharField(required=False, label="Aggregation prompt",
                                 widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["slug"].disabled = True

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"].strip()
        try:
            return valid_slug(slug)
        except PresetError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        body: dict[str, Any] = {"system_prompt": data.get("system_prompt") or None}
        models = _lines(data.get("models") or "")
        if models:
            body["model"] = models[0]
            if len(models) > 1:
                body["models"] = models[1:]
        for name in ("temperature", "max_tokens"):
            if data.get(name) is not None:
                body[name] = data[name]
        if (data.get("provider") or "").strip():
            try:
                body["provider"] = json.loads(data["provider"])
            except ValueError:
                self.add_error("provider", "Not valid JSON.")
                return data
        proposers = _lines(data.get("moa_proposers") or "")
        if proposers or data.get("moa_aggregator"):
            body["moa"] = {"proposers": proposers,
                           "aggregator": (data.get("moa_aggregator") or "").strip(),
                           "layers": data.get("moa_layers") or 1,
                           "critique": bool(data.get("moa_critique")),
                           "aggregator_prompt": data.get("moa_prompt") or None}
        if not models and "moa" not in body:
            self.add_error("models", "Name a model, or proposers and an aggregator.")
            return data
        try:
            config, system_prompt = clean_config(body)
        except PresetError as exc:
            self.add_error(None, str(exc))
            return data
        missing = unknown_models(models_named(config))
        if missing:
            self.add_error(None, f"Unknown model: {', '.join(missing)}")
        data["config"], data["system_prompt"] = config, system_prompt
        return data

    @staticmethod
    def initial_from(preset: Any) -> dict[str, Any]:
        version = preset.designated_version
        config = version.config if version else {}
        moa = config.get("moa") or {}
        return {
            "name": preset.name, "slug": preset.slug, "description": preset.description,
            "system_prompt": version.system_prompt if version else "",
            "models": "\n".join(([config["model"]] if config.get("model") else [])
                                + config.get("models", [])),
            "temperature": config.get("temperature"), "max_tokens": config.get("max_tokens"),
            "provider": json.dumps(config["provider"]) if config.get("provider") else "",
            "moa_proposers": "\n".join(moa.get("proposers", [])),
            "moa_aggregator": moa.get("aggregator", ""), "moa_layers": moa.get("layers", 1),
            "moa_critique": moa.get("critique", False),
            "moa_prompt": moa.get("aggregator_prompt", ""),
        }
