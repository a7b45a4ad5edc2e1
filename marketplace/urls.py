from django.urls import path

from marketplace import views

urlpatterns = [
    path("", views.home, name="home"),
]
