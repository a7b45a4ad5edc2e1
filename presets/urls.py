from django.urls import path

from presets import views

urlpatterns = [
    path("presets", views.preset_list, name="presets"),
    path("presets/<slug:slug>", views.preset_detail, name="preset_detail"),
]
