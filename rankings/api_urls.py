from django.urls import URLPattern, URLResolver, path

from rankings.api import GenerationView

urlpatterns: list[URLPattern | URLResolver] = [
    path("generation", GenerationView.as_view(), name="api-generation"),
]
