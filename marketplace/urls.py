from django.urls import path

from marketplace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("models", views.models_page, name="models"),
    path("providers", views.providers_page, name="providers"),
    path("providers/<slug:slug>", views.provider_page, name="provider"),
    path("compare", views.compare_page, name="compare"),
    # Last: /<author>/<slug> (slug may carry a variant such as ":free").
    path("<str:author>/<str:slug>", views.model_page, name="model"),
]
