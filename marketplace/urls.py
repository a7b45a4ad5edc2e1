from django.urls import path

from marketplace import playground_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("models", views.models_page, name="models"),
    path("providers", views.providers_page, name="providers"),
    path("providers/<slug:slug>", views.provider_page, name="provider"),
    path("compare", views.compare_page, name="compare"),
    path("playground", playground_views.playground_page, name="playground"),
    path("playground/key", playground_views.playground_key, name="playground_key"),
    # Last: /<author>/<slug> (slug may carry a variant such as ":free").
    path("<str:author>/<str:slug>", views.model_page, name="model"),
]
