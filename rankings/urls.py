from django.urls import path

from rankings import views

urlpatterns = [
    path("rankings", views.coming_soon, {"page": "rankings"}, name="rankings"),
    path("apps", views.coming_soon, {"page": "apps"}, name="apps"),
]
