from django.contrib import admin
from django.urls import include, path

from config.health import healthz

api_patterns = [
    path("", include("marketplace.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("rankings.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_patterns)),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("rankings.urls")),
    # Last: the catalog owns the catch-all /<author>/<slug> model pages.
    path("", include("marketplace.urls")),
]
