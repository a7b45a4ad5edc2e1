from django.urls import path

from rankings import views

urlpatterns = [
    path("rankings", views.rankings_page, name="rankings"),
    path("apps", views.apps_page, name="apps"),
    path("apps/<int:app_id>", views.app_page, name="app"),
    path("apps/<int:app_id>/icon", views.app_icon, name="app-icon"),
]
