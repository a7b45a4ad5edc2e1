from django.urls import path

from accounts import views

urlpatterns = [
    path("auth", views.authorize, name="oauth_authorize"),
    path("keys", views.keys_page, name="keys"),
    path("keys/<str:key_hash>", views.key_edit, name="key_edit"),
    path("keys/<str:key_hash>/toggle", views.key_toggle, name="key_toggle"),
    path("keys/<str:key_hash>/delete", views.key_delete, name="key_delete"),
    path("connected-apps", views.connected_apps, name="connected_apps"),
    path("settings", views.settings_page, name="settings"),
]
