from django.urls import URLPattern, URLResolver, path

from usage.api import ActivityView, FeedbackView, GenerationContentView
from usage.generations import GenerationView

urlpatterns: list[URLPattern | URLResolver] = [
    path("activity", ActivityView.as_view(), name="api-activity"),
    path("generation", GenerationView.as_view(), name="api-generation"),
    path("generation/feedback", FeedbackView.as_view(), name="api-generation-feedback"),
    path("generation/content", GenerationContentView.as_view(), name="api-generation-content"),
]
