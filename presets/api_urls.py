from django.urls import URLPattern, URLResolver, path

from presets import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("presets", api.PresetList.as_view(), name="api-presets"),
    path("presets/<slug:slug>", api.PresetDetail.as_view(), name="api-preset"),
    path("presets/<slug:slug>/versions", api.VersionList.as_view(), name="api-preset-versions"),
    path("presets/<slug:slug>/versions/<int:version>", api.VersionDetail.as_view(),
         name="api-preset-version"),
    path("presets/<slug:slug>/chat/completions", api.CreateFromChat.as_view(),
         name="api-preset-create"),
]
