from django.urls import path

from billing.api import CreditsView
from billing.byok_api import ByokDetailView, ByokListView

urlpatterns = [
    path("credits", CreditsView.as_view(), name="api-credits"),
    path("byok", ByokListView.as_view(), name="api-byok"),
    path("byok/<str:key_id>", ByokDetailView.as_view(), name="api-byok-detail"),
]
