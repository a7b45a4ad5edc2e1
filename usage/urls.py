from django.urls import path

from usage import views

urlpatterns = [
    path("activity", views.activity_page, name="activity"),
    path("activity.csv", views.activity_csv, name="activity-csv"),
    path("activity/<str:generation_id>", views.generation_page, name="usage-generation"),
    path("activity/<str:generation_id>/feedback", views.generation_feedback,
         name="usage-generation-feedback"),
]
