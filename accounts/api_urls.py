from django.urls import path

from accounts import api

urlpatterns = [
    path("key", api.CurrentKeyView.as_view(), name="api-key"),
    path("keys", api.KeyListView.as_view(), name="api-keys"),
    path("keys/<str:key_hash>", api.KeyDetailView.as_view(), name="api-key-detail"),
    path("auth/keys", api.ExchangeCodeView.as_view(), name="api-auth-keys"),
    path("auth/keys/code", api.CreateCodeView.as_view(), name="api-auth-keys-code"),
]
