from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from config.health import healthz

api_patterns = [
    path("", include("marketplace.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("rankings.api_urls")),
    path("", include("usage.api_urls")),
    path("", include("presets.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("docs", TemplateView.as_view(template_name="pages/docs.html"), name="docs"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_patterns)),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("rankings.urls")),
    path("", include("usage.urls")),
    path("", include("presets.urls")),
    # Last: the catalog owns the catch-all /<author>/<slug> model pages.
    path("", include("marketplace.urls")),
]
